"""Teacher and students in separate browser contexts: join, push a lesson, locked fields, live grid, spotlight."""

import re

import pytest

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


def _join(pg, base, code, name):
    pg.goto(f"{base}/room/{code}")
    pg.fill("#join-name", name)
    pg.click("#join-form button[type=submit]")
    pg.wait_for_selector("#student-room:not([hidden])", timeout=60_000)


def test_teacher_pushes_a_lesson_students_train_and_the_teacher_sees_it_live(contexts, live_server_url, screenshot):
    base = live_server_url
    teacher = contexts()
    teacher.goto(f"{base}/room")
    teacher.fill("#room-name", "Week 3")
    teacher.click("#new-room button[type=submit]")
    teacher.wait_for_url(re.compile(r".*/room/[A-Z0-9]{6}$"), timeout=60_000)
    code = teacher.text_content("#room-code").strip()

    ana, ben = contexts(), contexts()
    _join(ana, base, code, "ana")
    _join(ben, base, code, "ben")
    teacher.wait_for_function("() => document.querySelectorAll('.student-card').length === 2", timeout=60_000)

    # push the learning-rate lesson with only the learning rate open
    teacher.wait_for_selector("#push-preset option[value='lr-orders-of-magnitude']", state="attached", timeout=60_000)
    teacher.select_option("#push-preset", "lr-orders-of-magnitude")
    teacher.fill("#push-unlocked", "/optimizer/lr")
    teacher.click("#push-form button[type=submit]")
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
    teacher.goto(f"{base}/room")
    teacher.fill("#room-name", "Locked out")
    teacher.click("#new-room button[type=submit]")
    teacher.wait_for_url(re.compile(r".*/room/[A-Z0-9]{6}$"), timeout=60_000)
    code = teacher.text_content("#room-code").strip()
    student = contexts()
    _join(student, base, code, "eve")
    assert student.locator("#student-grid").count() == 0  # the student page, not the teacher's
    status = student.evaluate(f"fetch('/api/rooms/{code}').then(r => r.status)")
    assert status == 403
