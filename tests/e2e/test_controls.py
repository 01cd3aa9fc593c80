"""Live controls on the run page: pause, step exactly N batches, set the lr, resume."""

import pytest

from tests.e2e.helpers import browser_errors, open_run, wait_status
from tests.e2e.instrument import QUIET, create_run, events, wait_run_status

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

LONG = {"name": "steer me", "data": {"dataset": "xor", "n_samples": 400},
        "training": {"epochs": 400, "batch_size": 8}, "monitor": QUIET}


def test_pause_step_five_set_lr_resume_on_a_live_run(live_server_url, page, screenshot):
    base = live_server_url
    run_id = create_run(page, base, LONG)
    open_run(page, f"{base}/r/{run_id}")
    page.wait_for_selector("#controls #ctl-pause")
    wait_status(page, ("running",))
    # 1. Space pauses (focus on the page, not in a field)
    page.locator("h1").first.click()
    page.keyboard.press("Space")
    page.wait_for_selector("#ctl-state:has-text('Paused at step')", timeout=60_000)
    assert page.inner_text("#ctl-pause") == "Resume"
    paused = events(page, run_id, "control")[-1]
    assert paused["action"] == "pause"
    # the run is still "running" on the server, but the pills say it is paused
    page.wait_for_selector(".run-head .badge[data-paused='1']:has-text('Paused')", timeout=30_000)
    page.wait_for_selector("#run-actions .badge[data-paused='1']:has-text('Paused')", timeout=30_000)
    assert page.get_attribute(".run-head .badge", "data-status") == "running"
    # 2. step 5 batches: the trainer pauses again exactly 5 steps later
    page.fill("#ctl-steps", "5")
    page.click("#ctl-step")
    page.wait_for_selector("#ctl-state:has-text('Paused after stepping')", timeout=60_000)
    ctl = events(page, run_id, "control")
    assert [c["action"] for c in ctl[-3:]] == ["pause", "step", "pause"]
    assert ctl[-2]["steps"] == 5 and ctl[-1]["step"] - ctl[-2]["step"] == 5
    steps = [e["step"] for e in events(page, run_id, "step")]
    assert max(steps) == ctl[-1]["step"]  # nothing ran past the pause
    # 3. a learning rate that does not parse is flagged, never sent
    page.fill("#ctl-lr", "1e")
    page.click("#ctl-set-lr")
    assert page.get_attribute("#ctl-lr", "aria-invalid") == "true"
    assert "not a positive number" in page.inner_text("#ctl-error")
    # 4. set the lr: recorded as a control event and drawn as a line on the charts
    page.fill("#ctl-lr", "0.004")
    page.click("#ctl-set-lr")
    page.wait_for_selector("#ctl-state:has-text('lr → 0.004')", timeout=60_000)
    assert events(page, run_id, "control")[-1] == {**events(page, run_id, "control")[-1], "action": "set", "lr": 0.004}
    page.wait_for_function("""() => {
        const el = document.querySelector('#panel-lr .js-plotly-plot');
        return el && el.layout && (el.layout.shapes || []).some((s) => s.line && s.line.color === '#d62728');
    }""", timeout=30_000)
    screenshot("controls-paused-lr-set")
    # 5. the weight decay (Adam has one): a value that does not parse is flagged on its field
    page.fill("#ctl-wd", "1e")
    page.click("#ctl-set-wd")
    assert page.get_attribute("#ctl-wd", "aria-invalid") == "true"
    assert "not a number of 0 or more" in page.inner_text("#ctl-wd-error")
    assert page.get_attribute("#ctl-wd", "aria-describedby") == "ctl-wd-error"
    page.fill("#ctl-wd", "50")  # the server's bound, shown on the field too
    page.click("#ctl-set-wd")
    page.wait_for_selector("#ctl-wd-error:has-text('at most 10')", timeout=30_000)
    assert page.get_attribute("#ctl-wd", "aria-invalid") == "true"
    page.fill("#ctl-wd", "0.001")
    page.click("#ctl-set-wd")
    page.wait_for_selector("#ctl-state:has-text('weight decay → 0.001')", timeout=60_000)
    assert page.get_attribute("#ctl-wd", "aria-invalid") is None
    assert events(page, run_id, "control")[-1]["weight_decay"] == 0.001
    assert page.inner_text("label[for='ctl-wd']") == "weight decay"
    # 6. "." steps once more, then Space resumes; the new lr is what the steps use
    page.locator("h1").first.click()
    page.keyboard.press("Space")
    page.wait_for_selector("#ctl-state:has-text('Resumed')", timeout=60_000)
    page.wait_for_selector(".run-head .badge[data-status='running']:not([data-paused]):has-text('Running')")
    page.wait_for_selector("#run-actions .badge:not([data-paused]):has-text('Running')")
    page.wait_for_function(f"""async () => {{
        const r = await fetch('/api/runs/{run_id}/events?after=0&limit=5000');
        const evs = (await r.json()).events.filter((e) => e.type === 'step');
        const lr = evs.flatMap((e) => [].concat(e.lr));
        return lr.length && lr[lr.length - 1] === 0.004;
    }}""", timeout=60_000)
    page.click("#stop")
    wait_run_status(page, run_id, ("cancelled",))
    page.wait_for_selector("#controls", state="detached", timeout=30_000)
    assert not browser_errors(page)


def test_a_visitor_sees_no_controls(live_server_url, page, browser):
    run_id = create_run(page, live_server_url, {**LONG, "training": {"epochs": 3, "batch_size": 32}})
    other = browser.new_context(viewport={"width": 1200, "height": 900})
    try:
        pg = other.new_page()
        open_run(pg, f"{live_server_url}/r/{run_id}")
        pg.wait_for_selector("#add-compare")
        assert pg.locator("#controls").count() == 0
    finally:
        other.close()
