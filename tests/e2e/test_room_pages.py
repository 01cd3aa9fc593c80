"""Teacher and students in separate browser contexts: join, push a lesson, locked fields, live grid, spotlight."""

import base64
import json
import re

import pytest

from tests.e2e.helpers import push_lesson

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]  # live app start + training on a shared machine


@pytest.fixture
def contexts(browser):
    made = []

    def new():
        ctx = browser.new_context(viewport={"width": 1300, "height": 900})
        pg = ctx.new_page()
        pg.js_errors = []
        pg.on("pageerror", lambda exc: pg.js_errors.append(str(exc)))
        made.append(ctx)
        return pg

    yield new
    for ctx in made:
        ctx.close()


def _new_room(teacher, base, name):
    teacher.goto(f"{base}/room")
    teacher.fill("#room-name", name)
    teacher.click("#new-room button[type=submit]")
    teacher.wait_for_url(re.compile(r".*/room/[A-Z0-9]{6}$"), timeout=60_000)
    return teacher.text_content("#room-code").strip()


def _join(pg, base, code, name):
    pg.goto(f"{base}/room/{code}")
    pg.fill("#join-name", name)
    pg.click("#join-form button[type=submit]")
    pg.wait_for_selector("#student-room:not([hidden])", timeout=60_000)


def test_teacher_pushes_a_lesson_students_train_and_the_teacher_sees_it_live(contexts, live_server_url, screenshot):
    base = live_server_url
    teacher = contexts()
    code = _new_room(teacher, base, "Week 3")

    ana, ben = contexts(), contexts()
    _join(ana, base, code, "ana")
    _join(ben, base, code, "ben")
    teacher.wait_for_function("() => document.querySelectorAll('.student-card').length === 2", timeout=60_000)

    # push the learning-rate lesson with only the learning rate open
    push_lesson(teacher, "lr-orders-of-magnitude")
    ana.wait_for_selector("#lesson-body:not([hidden])", timeout=60_000)
    assert "Learning rate" in ana.text_content("#lesson-title")
    assert ana.locator("#lesson-fields input").count() == 1
    assert ana.get_attribute("#lesson-fields input", "data-path") == "/optimizer/lr"

    # the server refuses a locked field even if the page is bypassed
    status = ana.evaluate("""async () => {
        const token = (document.cookie.match(/csrftoken=([^;]+)/) || [])[1];
        const me = await (await fetch(location.pathname.replace('/room/', '/api/rooms/') + '/me')).json();
        const spec = {...me.lesson.spec, training: {...me.lesson.spec.training, epochs: 99}};
        const r = await fetch('/api/runs', {method: 'POST', body: JSON.stringify({spec}),
            headers: {'Content-Type': 'application/json', 'X-CSRFToken': token}});
        return r.status; }""")
    assert status == 403

    ana.fill("#lesson-fields input", "0.3")
    ana.click("#lesson-form button[type=submit]")
    ana.wait_for_selector("#my-runs li", timeout=60_000)
    run_id = ana.get_attribute("#my-runs li", "data-run-id")

    # the teacher's card for ana follows the run live, then the leaderboard lists her
    card = teacher.locator(".student-card", has_text="ana")
    card.locator(".status.status-succeeded").wait_for(timeout=120_000)
    teacher.wait_for_function("() => document.querySelector('#leaderboard li') !== null", timeout=60_000)
    assert "best val acc" in card.locator(".metric").text_content()
    assert "lr 0.3" in card.locator(".knobs").text_content()

    # ben sees only his own runs until the teacher spotlights ana's
    ben.wait_for_timeout(2500)
    assert ben.locator(f"#my-runs li[data-run-id='{run_id}']").count() == 0
    assert ben.locator("#spotlight").is_hidden()
    card.locator(".spot-btn").click()
    ben.wait_for_selector("#spotlight:not([hidden])", timeout=60_000)
    assert run_id in ben.get_attribute("#spot-link", "href")
    teacher.wait_for_selector("#spotlight:not([hidden])", timeout=60_000)
    screenshot("room-teacher", teacher)
    screenshot("room-student", ben)
    for pg in (teacher, ana, ben):
        assert not pg.js_errors


def test_a_student_cannot_open_the_teacher_view(contexts, live_server_url):
    base = live_server_url
    teacher = contexts()
    code = _new_room(teacher, base, "Locked out")
    student = contexts()
    _join(student, base, code, "eve")
    assert student.locator("#student-grid").count() == 0  # the student page, not the teacher's
    status = student.evaluate(f"fetch('/api/rooms/{code}').then(r => r.status)")
    assert status == 403


def _playground(pg, base):
    pg.goto(f"{base}/")
    pg.wait_for_selector("body[data-ready='1']", state="attached", timeout=30_000)
    pg.wait_for_selector("#section-data select", timeout=30_000)
    pg.wait_for_selector("#room-bar:not([hidden])", timeout=30_000)  # it knows the room
    pg.evaluate("window.__notReloaded = true")


def test_a_push_reaches_the_open_playground_without_overwriting_edits_and_shows_the_locks(
        contexts, live_server_url, screenshot):
    base = live_server_url
    teacher = contexts()
    code = _new_room(teacher, base, "Week 4")
    ana, ben = contexts(), contexts()
    for pg, name in ((ana, "ana"), (ben, "ben")):
        _join(pg, base, code, name)
        _playground(pg, base)
    assert "not sent a lesson" in ana.text_content("#room-notice")
    # ben has been editing: his form differs from what the page opened with
    ben.fill("[data-path='/training/epochs'] input", "7")

    push_lesson(teacher, "underfit-tiny-mlp")

    # ana's untouched playground loads it within a few seconds, without a reload
    ana.wait_for_function("() => document.querySelector('#room-notice').textContent.startsWith('Your teacher loaded')",
                          timeout=10_000)
    assert ana.text_content("#room-notice") == "Your teacher loaded Underfitting: a network too small"
    assert ana.evaluate("window.__notReloaded") is True
    assert "Underfitting" in ana.text_content("#lesson") and ana.is_visible("#lesson")
    assert ana.input_value("[data-path='/training/epochs'] input") == "80"
    assert ana.input_value("[data-path='/model/layers/0/units'] input") == "2"
    # locked fields are disabled and say why; the learning rate is open
    epochs = ana.locator("[data-path='/training/epochs'] input")
    assert epochs.is_disabled() and epochs.get_attribute("title") == "locked by your teacher"
    assert ana.locator("[data-path='/model/layers/0/units'] input").is_disabled()
    assert ana.locator("#presets").is_disabled()
    assert not ana.locator("[data-path='/optimizer/lr'] input").is_disabled()
    assert "locked by your teacher" in ana.text_content("#room-locks")
    assert "learning rate" in ana.text_content("#room-locks").lower()
    assert ana.locator("#section-training summary .lock-tag").count() == 1
    screenshot("room-playground-student", ana)

    # ben's edits stay; the push is offered instead
    ben.wait_for_selector("#room-load:not([hidden])", timeout=10_000)
    assert "Your teacher sent Underfitting" in ben.text_content("#room-notice")
    assert ben.input_value("[data-path='/training/epochs'] input") == "7"
    ben.click("#room-load")
    assert ben.text_content("#room-notice") == "Your teacher loaded Underfitting: a network too small"
    assert ben.input_value("[data-path='/training/epochs'] input") == "80"
    assert ben.locator("#room-load").is_hidden() and ben.evaluate("window.__notReloaded") is True

    # a new tab opened on a link's own setup keeps it: the push made before is offered
    link = base64.urlsafe_b64encode(json.dumps({"training": {"epochs": 5}}).encode()).decode().rstrip("=")
    tab = ben.context.new_page()
    tab.goto(f"{base}/#spec={link}")
    tab.wait_for_selector("#room-load:not([hidden])", timeout=30_000)
    assert tab.input_value("[data-path='/training/epochs'] input") == "5"
    tab.close()

    # ana changes what she may and trains: the server takes it (the run is hers, in the room)
    ana.fill("[data-path='/optimizer/lr'] input", "0.05")
    ana.wait_for_selector("#validation[data-state='valid']", state="attached", timeout=30_000)
    with ana.expect_response(lambda r: r.url.endswith("/api/runs") and r.request.method == "POST") as resp:
        ana.click("#train")
    assert resp.value.status == 201, resp.value.text()

    # the teacher unlocks: the fields open again on the playground
    teacher.click("#lock-toggle")
    ana.wait_for_function("() => !document.querySelector(\"[data-path='/training/epochs'] input\").disabled",
                          timeout=10_000)
    assert ana.locator("#room-locks").is_hidden() and not ana.locator("#presets").is_disabled()
    if ana.locator("#stop").is_visible():
        ana.click("#stop")
    for pg in (teacher, ana, ben):
        assert not pg.js_errors, pg.js_errors
