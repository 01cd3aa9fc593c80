"""axe-core finds nothing on /runs, /compare, /lessons, and on a lesson's run page with the
live controls, the lesson banner and the neuron view."""

import pytest

from tests.e2e.helpers import open_run, push_lesson, wait_status
from tests.e2e.instrument import create_run, wait_run_status

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]


def _axe(page, context=None) -> list:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, context=context)
    return [{"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]}
            for v in results.response["violations"]]


def test_axe_on_runs_compare_lessons_and_a_steered_lesson_run(live_server_url, page):
    base = live_server_url
    page.goto(f"{base}/lessons")
    page.wait_for_selector("body[data-ready='1']", state="attached")
    assert page.locator("h1").count() == 1
    assert _axe(page) == []
    small = {"data": {"dataset": "xor", "n_samples": 200}, "training": {"epochs": 3}, "lesson": "adam"}
    a = create_run(page, base, {**small, "name": "a"})
    b = create_run(page, base, {**small, "name": "b", "optimizer": {"name": "sgd", "lr": 0.1}})
    wait_run_status(page, a)
    wait_run_status(page, b)
    page.goto(f"{base}/runs")
    page.wait_for_selector("#runs-body tr")
    assert _axe(page) == []
    page.goto(f"{base}/compare?runs={a},{b}")
    page.wait_for_function("""() => { const el = document.querySelector('#cmp-loss-chart');
        return el && el.data && el.data.every((t) => t.x.length >= 3); }""", timeout=60_000)
    assert page.locator("h1").count() == 1
    assert _axe(page) == []
    # a live lesson run, owner's view: controls, banner, highlighted panel, neurons (what this
    # issue adds to the run page; the page as a whole has its own axe test, on finished runs)
    c = create_run(page, base, {**small, "name": "live", "training": {"epochs": 300, "batch_size": 8}})
    open_run(page, f"{base}/r/{c}")
    page.wait_for_selector("#controls")
    page.wait_for_selector("#lesson-banner")
    page.wait_for_selector("#panel-neurons canvas", timeout=120_000)
    assert page.locator("h1").count() == 1
    assert _axe(page, {"include": [["#run-extras"], ["#panel-neurons"], ["#panel-loss"]]}) == []
    page.click("#stop")
    wait_status(page, ("cancelled",))


def _fresh(browser):
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = ctx.new_page()
    pg.js_errors = []
    pg.on("pageerror", lambda exc: pg.js_errors.append(str(exc)))
    return ctx, pg


def test_axe_on_the_sweep_page(live_server_url, page):
    base = live_server_url
    page.goto(f"{base}/runs")
    sweep = page.evaluate("""async (body) => {
        const token = (document.cookie.match(/csrftoken=([^;]+)/) || [])[1];
        const r = await fetch('/api/sweeps', {method: 'POST', body: JSON.stringify(body),
            headers: {'Content-Type': 'application/json', 'X-CSRFToken': token}});
        return await r.json(); }""", {
        "spec": {"data": {"dataset": "xor", "n_samples": 200}, "training": {"epochs": 3},
                 "monitor": {"diagnostics": False, "boundary": False, "neurons": False}},
        "method": "grid", "metric": "val_acc", "axes": [{"path": "/optimizer/lr", "values": [0.01, 0.1]}]})
    page.goto(f"{base}{sweep['url']}")
    page.wait_for_function("() => document.querySelector('#sweep-facts').textContent.includes('finished')",
                           timeout=240_000)
    page.wait_for_selector("#axis-charts .js-plotly-plot")
    page.wait_for_selector("#runs-table tbody tr")
    assert page.locator("h1").count() == 1
    assert _axe(page) == []
    assert not page.js_errors


def test_axe_on_the_room_pages_teacher_student_and_the_students_playground(live_server_url, browser):
    import re

    base = live_server_url
    made = []
    try:
        ctx, teacher = _fresh(browser)
        made.append(ctx)
        teacher.goto(f"{base}/room")
        assert _axe(teacher) == []
        teacher.fill("#room-name", "Accessible room")
        teacher.click("#new-room button[type=submit]")
        teacher.wait_for_url(re.compile(r".*/room/[A-Z0-9]{6}$"), timeout=60_000)
        code = teacher.text_content("#room-code").strip()

        ctx, student = _fresh(browser)
        made.append(ctx)
        student.goto(f"{base}/room/{code}")
        student.wait_for_selector("#join-form:not([hidden])")
        assert student.locator("h1").count() == 1
        assert _axe(student) == []  # before joining
        student.fill("#join-name", "table 5")
        student.click("#join-form button[type=submit]")
        student.wait_for_selector("#student-room:not([hidden])", timeout=60_000)

        push_lesson(teacher, "underfit-tiny-mlp")
        student.wait_for_selector("#lesson-body:not([hidden])", timeout=60_000)
        student.fill("#lesson-fields input", "0.05")
        student.click("#lesson-form button[type=submit]")
        student.wait_for_selector("#my-runs li", timeout=60_000)
        card = teacher.locator(".student-card", has_text="table 5")
        card.locator(".status.status-succeeded").wait_for(timeout=180_000)
        card.locator(".spot-btn").click()
        teacher.wait_for_selector("#spotlight:not([hidden])", timeout=60_000)
        teacher.wait_for_selector("#leaderboard li", timeout=60_000)
        assert teacher.locator("h1").count() == 1
        assert _axe(teacher) == []
        student.wait_for_selector("#spotlight:not([hidden])", timeout=60_000)
        assert student.locator("h1").count() == 1
        assert _axe(student) == []

        # the student's playground with the lesson, the room notice and locked fields
        student.goto(f"{base}/")
        student.wait_for_selector("body[data-ready='1']", state="attached", timeout=30_000)
        student.wait_for_selector("#room-locks:not([hidden])", timeout=30_000)
        student.wait_for_selector("#network-picture svg")
        assert _axe(student) == []
        assert not teacher.js_errors and not student.js_errors
    finally:
        for ctx in made:
            ctx.close()
