"""What a finished run page shows beyond the curves (device, sharpness, L1/L2 penalty),
and how its panels are laid out on a wide screen, a projector and a phone."""

import pytest

from tests.e2e.helpers import (
    api_call,
    boundary_domains,
    browser_errors,
    chart_font_sizes,
    open_playground,
    open_run,
    panel_boxes,
    wait_run,
    wait_status,
    watch_console,
)

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

SPEC = {
    "name": "moons with L1 + L2 and a landscape",
    "data": {"dataset": "moons", "n_samples": 300},
    "regularization": {"l1": 0.001, "l2": 0.01},
    "training": {"epochs": 4},
    "monitor": {"landscape": {"mode": "2d", "resolution": 9, "sharpness": True}},
}


@pytest.fixture(scope="module")
def finished_run(live_server_url, browser):
    context = browser.new_context()
    page = context.new_page()
    open_playground(page, live_server_url)
    run = api_call(page, "createRun", SPEC)
    detail = wait_run(page, run["id"])
    context.close()
    assert detail["status"] == "succeeded", detail.get("error")
    return {**run, "detail": detail, "page_url": f"{live_server_url}{run['url']}"}


def _open_finished(page, url):
    open_run(page, url)
    wait_status(page)
    page.wait_for_selector("#panel-landscape:not([hidden])")
    page.wait_for_selector("#panel-summary:not([hidden]) table.metrics")
    page.wait_for_function("() => document.querySelector('#panel-dead .js-plotly-plot')?.data?.length > 0")
    page.wait_for_timeout(500)  # the last animation frame of redraws


def test_the_run_page_shows_device_sharpness_and_the_penalty_line(finished_run, page, screenshot):
    problems = watch_console(page)
    detail = finished_run["detail"]
    assert detail["device"] in ("cpu", "cuda")
    _open_finished(page, finished_run["page_url"])

    device = page.locator(".run-head .device")
    assert device.get_attribute("data-device") == detail["device"]
    assert detail["device"] in device.inner_text()

    sharp = (detail["summary"] or {}).get("sharpness")
    assert sharp and {"top_eigenvalue", "trace"} <= set(sharp)
    top = page.locator("#panel-summary [data-fact='sharpness-top_eigenvalue']")
    trace = page.locator("#panel-summary [data-fact='sharpness-trace']")
    assert float(top.inner_text()) == pytest.approx(sharp["top_eigenvalue"], rel=1e-2)
    assert float(trace.inner_text()) == pytest.approx(sharp["trace"], rel=1e-2)

    # the penalty is a dashed line of its own, one point per epoch, beside the data loss
    # (a chart out of view redraws at most every 2 s: bring it into view and wait for it)
    page.locator("#panel-loss").scroll_into_view_if_needed()
    page.wait_for_function("""(n) => (document.querySelector('#panel-loss .js-plotly-plot').data || [])
        .some((t) => t.name === 'L1/L2 penalty' && t.x.length === n)""", arg=SPEC["training"]["epochs"], timeout=30_000)
    lines = page.evaluate("""() => document.querySelector('#panel-loss .js-plotly-plot').data
        .map((t) => ({ name: t.name, dash: t.line.dash, n: t.x.length, y: t.y }))""")
    by_name = {t["name"]: t for t in lines}
    assert "L1/L2 penalty" in by_name, [t["name"] for t in lines]
    penalty = by_name["L1/L2 penalty"]
    assert penalty["dash"] == "dash" and penalty["n"] == SPEC["training"]["epochs"]
    assert all(y > 0 for y in penalty["y"])
    assert by_name["train"]["dash"] == "solid"
    epochs = api_call(page, "events", finished_run["id"], 0)["events"]
    last = [e for e in epochs if e["type"] == "epoch"][-1]
    assert penalty["y"][-1] == pytest.approx(last["penalty"]["l1"] + last["penalty"]["l2"], rel=1e-6)
    readout = page.inner_text("#run .readout")
    assert "L1 penalty" in readout and "L2 penalty" in readout and "[object" not in readout
    screenshot("run_page_device_sharpness_penalty")
    assert problems == [] and browser_errors(page) == []


def _same_row(boxes, a, b):
    return abs(boxes[a]["y"] - boxes[b]["y"]) < 2 and boxes[a]["x"] < boxes[b]["x"]


def test_wide_screens_get_two_columns_of_panels(finished_run, page, screenshot):
    _open_finished(page, finished_run["page_url"])  # 1400 px wide
    boxes = panel_boxes(page)
    grid = page.evaluate("document.querySelector('.panel-grid').getBoundingClientRect().width")
    # results first: loss beside the boundary, then accuracy beside the lr (issue 7 §2)
    for a, b in [("summary", "confusion"), ("loss", "boundary"), ("accuracy", "lr"),
                 ("gradnorm", "updateratio"), ("activations", "dead")]:
        assert _same_row(boxes, a, b), (a, b, boxes[a], boxes[b])
        assert boxes[a]["width"] == pytest.approx(boxes[b]["width"], abs=2)
        assert boxes[a]["width"] < grid / 2
    for wide in ("landscape", "gradflow"):
        assert boxes[wide]["width"] == pytest.approx(grid, abs=2)
    # the row order: loss and boundary, accuracy and lr, landscape, the diagnostics, then the summary
    ys = [boxes[k]["y"] for k in ("loss", "accuracy", "landscape", "gradflow", "gradnorm", "activations", "summary")]
    assert ys == sorted(ys)
    # each chart fills its cell (Plotly follows its element, not the window)
    sizes = page.evaluate("""() => [...document.querySelectorAll('.panel-grid .js-plotly-plot')]
        .filter((el) => el.offsetParent)
        .map((el) => [el.closest('.panel').id, el.clientWidth, el._fullLayout.width, el.clientHeight, el._fullLayout.height])""")
    for name, cw, lw, ch, lh in sizes:
        assert abs(cw - lw) <= 2 and abs(ch - lh) <= 2, (name, cw, lw, ch, lh)
    fonts = chart_font_sizes(page)
    assert fonts and min(fonts) >= 14, sorted(fonts)[:5]
    # the boundary keeps its aspect ratio and still fills its cell in one direction
    assert max(d[1] - d[0] for d in boundary_domains(page)) > 0.97, boundary_domains(page)
    screenshot("run_page_wide_two_columns")

    # a projector: bigger type, still two columns on a 1920 px screen
    page.set_viewport_size({"width": 1920, "height": 1080})
    page.click("#projector-toggle")
    page.wait_for_timeout(600)
    page.wait_for_function("() => window.__descentScheduler && window.__descentScheduler.size === 0", timeout=60_000)
    boxes = panel_boxes(page)
    assert _same_row(boxes, "loss", "boundary") and _same_row(boxes, "accuracy", "lr")
    fonts = chart_font_sizes(page)
    assert min(fonts) >= 18, sorted(fonts)[:5]
    assert max(d[1] - d[0] for d in boundary_domains(page)) > 0.97, boundary_domains(page)
    screenshot("run_page_projector")
    page.click("#projector-toggle")  # the choice is remembered per browser context; leave it off


@pytest.mark.parametrize("width", [390, 1100])
def test_phones_and_narrow_windows_get_one_column(finished_run, browser, live_server_url, screenshot, width):
    context = browser.new_context(viewport={"width": width, "height": 844}, is_mobile=width < 600,
                                  has_touch=width < 600, device_scale_factor=2 if width < 600 else 1)
    page = context.new_page()
    problems = watch_console(page)
    _open_finished(page, finished_run["page_url"])
    boxes = panel_boxes(page)
    lefts = {round(b["x"]) for b in boxes.values()}
    assert len(lefts) == 1, boxes
    assert len({round(b["width"]) for b in boxes.values()}) == 1
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    fonts = chart_font_sizes(page)
    assert fonts and min(fonts) >= 14
    assert max(d[1] - d[0] for d in boundary_domains(page)) > 0.97, boundary_domains(page)
    screenshot(f"run_page_one_column_{width}", page)

    open_playground(page, live_server_url)  # the playground fits the screen too
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    if width < 600:
        screenshot("playground_phone", page)
    assert problems == [] and browser_errors(page) == []
    context.close()


def test_the_3d_landscape_loads_the_full_plotly_on_demand_and_draws_its_surface(finished_run, page):
    """Pages load Plotly's cartesian bundle; the 3-D surface brings in the full one when it
    is scrolled to, and the page's other charts keep their own instance."""
    problems = watch_console(page)
    _open_finished(page, finished_run["page_url"])
    scripts = lambda: page.evaluate("() => [...document.scripts].map((s) => s.src).filter((s) => s.includes('plotly'))")  # noqa: E731
    assert any("plotly-cartesian.min." in s for s in scripts())
    page.locator("#panel-landscape .surface3d").scroll_into_view_if_needed()
    page.wait_for_function("() => document.querySelector('#panel-landscape .surface3d')?.data?.some((t) => t.type === 'surface')",
                           timeout=60_000)
    assert any("/plotly.min." in s for s in scripts())
    # window.Plotly is still the cartesian bundle (no 3-D traces registered in it)
    assert page.evaluate("() => !Object.keys(Plotly.PlotSchema.get().traces).includes('surface')")
    assert page.evaluate("() => document.querySelector('#panel-dead .js-plotly-plot').data.length") > 0
    assert [p for p in problems if "plotly" in p.lower()] == []
