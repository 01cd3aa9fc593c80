"""Issue 7 §1, §2, §7 in a real browser: results above the fold, the phone layout, the
data preview, words on the fields, the keyboard, downloads, a broken link, axe-core."""

import base64
import csv
import io
import json
from pathlib import Path

import pytest

from tests.e2e.helpers import browser_errors, open_playground, open_run, set_field, wait_points, wait_status, watch_console

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

SHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"


def _hash(spec: dict) -> str:
    return "#spec=" + base64.urlsafe_b64encode(json.dumps(spec).encode()).decode().rstrip("=")


def _box(page, selector: str) -> dict:
    return page.eval_on_selector(selector, "el => { const r = el.getBoundingClientRect();"
                                           " return {top: r.top, bottom: r.bottom, left: r.left, right: r.right}; }")


def _axe(page) -> list:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [{"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]}
            for v in results.response["violations"]]


@pytest.fixture
def wide(browser):
    context = browser.new_context(viewport={"width": 1440, "height": 900}, accept_downloads=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.js_errors = errors
    yield page
    context.close()


def test_after_train_the_loss_and_the_boundary_are_visible_without_scrolling(live_server_url, wide):
    problems = watch_console(wide)
    spec = {"data": {"dataset": "moons"}, "training": {"epochs": 15}}
    open_playground(wide, live_server_url, _hash(spec))
    wide.wait_for_selector("#validation[data-state='valid']", state="attached")
    # before training: the data and the network are on the right
    wide.wait_for_function("() => { const el = document.querySelector('#data-preview.js-plotly-plot');"
                           " return !!(el && el.data && el.data.length >= 2); }", timeout=120_000)
    wide.wait_for_selector("#network-picture svg")
    wide.screenshot(path=str(SHOTS / "playground_before_train_1440.png"))
    wide.click("#train")
    wait_points(wide, "loss", 0, at_least=3)
    wide.wait_for_function("""() => { const el = document.querySelector('#panel-boundary .js-plotly-plot');
        return !!(el && el.data && el.data.some((t) => t.type === 'heatmap')); }""", timeout=120_000)
    assert wide.evaluate("window.scrollY") == 0
    for panel in ("#panel-loss .js-plotly-plot", "#panel-boundary .js-plotly-plot"):
        box = _box(wide, panel)
        assert box["top"] >= 0 and box["bottom"] <= 900 and box["right"] <= 1440, (panel, box)
    wait_status(wide)
    wide.wait_for_selector("#panel-summary:not([hidden])")
    # Summary and confusion matrix come after the live charts
    assert _box(wide, "#panel-summary")["top"] > _box(wide, "#panel-loss")["bottom"]
    wide.screenshot(path=str(SHOTS / "playground_results_first_1440.png"))
    assert problems == [] and browser_errors(wide) == []


def test_a_phone_gets_one_column_and_train_always_in_reach(live_server_url, browser):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True,
                                  device_scale_factor=2)
    page = context.new_page()
    open_playground(page, live_server_url)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    for y in (0, 1500, 3000):
        page.evaluate(f"window.scrollTo(0, {y})")
        box = _box(page, "#train")
        assert 0 <= box["top"] and box["bottom"] <= 844, (y, box)
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(SHOTS / "playground_phone_390.png"))
    context.close()


def test_on_a_phone_train_scrolls_the_loss_chart_into_view_and_nothing_overflows(live_server_url, browser):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True,
                                  device_scale_factor=2)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    open_playground(page, live_server_url, _hash({"data": {"dataset": "moons"}, "training": {"epochs": 20}}))
    page.wait_for_selector("#validation[data-state='valid']", state="attached")
    assert _box(page, "#panel-data-preview")["top"] > 844  # the results' place is below the builder
    page.tap("#train")
    wait_points(page, "loss", 0, at_least=3)
    # the loss chart comes into view (a smooth scroll: wait for it to settle), above the fixed Train bar
    in_view = """() => { const c = document.querySelector('#panel-loss .js-plotly-plot');
        const bar = document.querySelector('.train-bar').getBoundingClientRect();
        const r = c && c.getBoundingClientRect();
        return !!r && r.top >= 0 && r.bottom <= bar.top + 1; }"""
    page.wait_for_function(in_view, timeout=15_000)
    assert page.evaluate("window.scrollY") > 0
    bar = _box(page, ".train-bar")
    assert bar["bottom"] <= 844 and bar["top"] >= 0
    assert page.is_visible("#stop") or page.locator(".run-head [data-status='succeeded']").count() == 1
    # focus went to the results, not left on a button that scrolled away
    assert page.evaluate("document.activeElement.id") == "run-area"
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    wait_status(page)
    page.wait_for_selector("#panel-summary:not([hidden])")
    page.wait_for_timeout(300)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), \
        page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    page.screenshot(path=str(SHOTS / "playground_phone_after_train_390.png"))
    assert errors == []
    context.close()


def test_digits_preview_shows_images_and_the_augmented_toggle(live_server_url, wide):
    spec = {"data": {"dataset": "digits"}, "augment": [{"type": "rotate", "degrees": 30, "p": 1.0}],
            "model": {"layers": [{"type": "dense", "units": 16, "activation": "relu"}]}}
    open_playground(wide, live_server_url, _hash(spec))
    wide.wait_for_selector("#data-preview canvas.digit")
    assert wide.locator("#data-preview canvas.digit").count() >= 12
    plain = wide.eval_on_selector("#data-preview canvas.digit", "c => c.toDataURL()")
    wide.check("#augment-toggle")
    wide.wait_for_function("(p) => document.querySelector('#data-preview canvas.digit').toDataURL() !== p", arg=plain)
    assert "augmented" in wide.text_content("#data-preview-caption")
    wide.screenshot(path=str(SHOTS / "playground_digits_preview.png"))


def test_messages_sit_on_their_fields_and_a_half_typed_number_is_flagged(live_server_url, wide):
    open_playground(wide, live_server_url)
    set_field(wide, "/optimizer/lr", "1e")
    set_field(wide, "/model/layers/0/units", "0")
    wide.wait_for_selector("#validation[data-state='invalid']", state="attached")
    lr = wide.locator("[data-path='/optimizer/lr'] input")
    assert lr.input_value() == "1e"  # kept as typed, never dropped
    assert lr.get_attribute("aria-invalid") == "true"
    assert wide.locator("[data-path='/optimizer/lr'] .field-error").count() == 1
    assert wide.locator("[data-path='/model/layers/0/units'] .field-error").count() == 1
    # both problems came in the same round, and the bar says how many
    assert "2 problems" in wide.text_content("#validation-line")
    assert "Layer 1" in wide.text_content("#validation")
    wide.screenshot(path=str(SHOTS / "playground_field_errors.png"))


def test_ctrl_enter_trains_from_inside_a_field(live_server_url, wide):
    open_playground(wide, live_server_url, _hash({"training": {"epochs": 3}}))
    wide.wait_for_selector("#validation[data-state='valid']", state="attached")
    wide.focus("[data-path='/training/epochs'] input")
    with wide.expect_response(lambda r: r.url.endswith("/api/runs") and r.request.method == "POST") as resp:
        wide.keyboard.press("Control+Enter")
    assert resp.value.status == 201
    wait_status(wide)


def test_a_malformed_spec_link_says_so(live_server_url, wide):
    wide.goto(f"{live_server_url}/#spec=this-is-not-a-setup")
    wide.wait_for_selector("body[data-ready='1']", state="attached")
    wide.wait_for_selector("#spec-link-problem:not([hidden])")
    assert "could not be read" in wide.text_content("#spec-link-problem")


def test_stop_is_acknowledged_at_once_and_confirmed(live_server_url, wide):
    open_playground(wide, live_server_url, _hash({"training": {"epochs": 2000}}))
    wide.wait_for_selector("#validation[data-state='valid']", state="attached")
    wide.click("#train")
    wait_points(wide, "loss", 0, at_least=5)
    wide.click("#stop")
    # the very next frame says so, before any answer from the server
    assert wide.locator(".run-head .badge[data-stopping='1']").count() == 1 or \
        wide.locator(".run-head .badge[data-status='cancelled']").count() == 1
    assert wait_status(wide, ("cancelled",)) == "cancelled"
    assert wide.locator("#stop").is_hidden()


def test_run_page_offers_metrics_csv_and_spec_json(live_server_url, wide):
    from tests.live import Client

    api = Client(live_server_url)
    status, run = api.request("POST", "/api/runs", {"spec": {"name": "csv please", "training": {"epochs": 4}}})
    assert status == 201
    open_run(wide, f"{live_server_url}{run['url']}")
    wait_status(wide)
    wide.wait_for_selector("#export-csv")
    with wide.expect_download() as dl:
        wide.click("#export-csv")
    rows = list(csv.DictReader(io.StringIO(Path(dl.value.path()).read_text())))
    assert len(rows) == 4 and len({r["epoch"] for r in rows}) == 4
    assert {"train_loss", "val_loss", "train_acc", "val_acc", "lr"} <= set(rows[0])
    with wide.expect_download() as dl:
        wide.click("#export-spec")
    spec = json.loads(Path(dl.value.path()).read_text())
    assert spec["name"] == "csv please" and spec["training"]["epochs"] == 4
    # every chart keeps Plotly's "download as PNG" button
    charts = wide.locator(".panel .js-plotly-plot").count()
    assert charts >= 2
    assert wide.locator(".panel .js-plotly-plot .modebar-btn[data-title*='png' i]").count() == charts


def test_axe_finds_nothing_on_the_playground_and_the_run_page(live_server_url, wide):
    open_playground(wide, live_server_url, _hash({"training": {"epochs": 3}}))
    wide.wait_for_selector("#validation[data-state='valid']", state="attached")
    wide.wait_for_selector("#network-picture svg")
    assert wide.locator("h1").count() == 1
    assert _axe(wide) == []
    wide.click("#train")
    wait_status(wide)
    assert _axe(wide) == []
    run_url = wide.input_value("#run-share .share-url")
    open_run(wide, run_url)
    wait_status(wide)
    wide.wait_for_selector("#replay")
    assert wide.locator("h1").count() == 1
    assert _axe(wide) == []
