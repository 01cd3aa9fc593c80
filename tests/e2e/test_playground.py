"""The playground in a real browser against the whole app (Redis, Celery worker, daphne)."""

from pathlib import Path

import pytest

from tests.e2e.helpers import (
    api_call,
    browser_errors,
    open_playground,
    open_run,
    set_field,
    spec_in_hash,
    trace_points,
    trace_types,
    wait_points,
    wait_status,
    watch_console,
)

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

SHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"


def test_train_streams_the_loss_and_the_boundary_and_the_run_link_shows_the_same_run(
        live_server_url, page, screenshot, browser):
    problems = watch_console(page)
    open_playground(page, live_server_url)
    set_field(page, "/training/epochs", "6")
    page.wait_for_selector("#validation[data-state='valid']", state="attached")
    page.click("#train")

    wait_points(page, "loss", 0, at_least=3)
    page.wait_for_function("""() => {
        const el = document.querySelector('#panel-boundary .js-plotly-plot');
        return el && el.data && el.data.some((t) => t.type === 'heatmap');
    }""", timeout=120_000)
    # the dataset points over the heatmap: they come with the draw after the first one
    page.wait_for_function("""() => document.querySelector('#panel-boundary .js-plotly-plot')
        .data.some((t) => t.type === 'scatter')""", timeout=30_000)
    assert "scatter" in trace_types(page, "boundary")
    screenshot("playground_training")

    run_url = page.input_value("#run-share .share-url")
    assert "/r/" in run_url
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    viewer = context.new_page()
    viewer_problems = watch_console(viewer)
    open_run(viewer, run_url)
    wait_points(viewer, "loss", 0, at_least=3)

    assert wait_status(page) == "succeeded"
    assert wait_status(viewer) == "succeeded"
    viewer.wait_for_selector("#panel-summary:not([hidden])")
    # the late viewer replayed the backlog: it drew exactly what the live page drew
    # (charts below the fold redraw at most every 2 s: wait for their last draw)
    wait_points(viewer, "accuracy", 1, at_least=6)
    wait_points(page, "accuracy", 1, at_least=6)
    wait_points(viewer, "loss", 0, at_least=trace_points(page, "loss", 0))
    assert trace_points(viewer, "loss", 0) == trace_points(page, "loss", 0)
    assert trace_points(viewer, "accuracy", 1) == trace_points(page, "accuracy", 1) == 6
    screenshot("playground_finished")
    screenshot("run_page_same_run", viewer)
    context.close()
    assert problems == [] and viewer_problems == []
    assert browser_errors(page) == []


def test_a_preset_loads_into_the_form_and_runs(live_server_url, page, screenshot):
    problems = watch_console(page)
    open_playground(page, live_server_url)
    page.wait_for_function("() => document.querySelectorAll('#presets option').length > 10")
    page.select_option("#presets", "adam")
    assert page.input_value("[data-path='/data/dataset'] select") == "spiral"
    assert page.input_value("[data-path='/optimizer/name'] select") == "adam"
    assert "Adam" in page.inner_text("#lesson")
    assert spec_in_hash(page)["optimizer"]["name"] == "adam"
    set_field(page, "/training/epochs", "4")
    page.wait_for_selector("#validation[data-state='valid']", state="attached")
    page.click("#train")
    assert wait_status(page) == "succeeded"
    page.wait_for_selector("#panel-summary:not([hidden]) table.metrics")
    screenshot("preset_adam_finished")
    assert problems == [] and browser_errors(page) == []


def test_an_invalid_value_shows_the_error_next_to_its_field_and_in_the_list(live_server_url, page, screenshot):
    open_playground(page, live_server_url)
    set_field(page, "/model/layers/0/units", "-5")
    page.wait_for_selector("#validation[data-state='invalid']", state="attached")
    # the list names the field as the page shows it: cards are numbered from 1
    assert "Layer 1" in page.inner_text("#validation .error-list")
    field_error = page.locator("[data-path='/model/layers/0/units'] .field-error")
    assert field_error.count() == 1 and field_error.inner_text().strip()
    page.click("#train")  # the server refuses it with the same errors; nothing starts
    page.wait_for_selector("#toast:not([hidden])")
    assert page.locator("#run-area").is_hidden()
    screenshot("invalid_units")

    set_field(page, "/model/layers/0/units", "12")
    page.wait_for_selector("#validation[data-state='valid']", state="attached")
    assert page.locator(".field-error").count() == 0


def test_the_url_hash_round_trips_the_spec(live_server_url, page, browser):
    open_playground(page, live_server_url)
    page.select_option("[data-path='/data/dataset'] select", "xor")
    set_field(page, "/model/layers/1/units", "12")
    page.select_option("#section-model > .section-body .add-row .add-type", "dropout")
    page.click("#section-model > .section-body .add-row .add-item")
    page.select_option("[data-path='/optimizer/name'] select", "nesterov")
    set_field(page, "/optimizer/momentum", "0.8")
    page.wait_for_function("() => location.hash.length > 10"
                           " && atob(location.hash.slice(6).replace(/-/g,'+').replace(/_/g,'/')).includes('0.8')")
    spec = spec_in_hash(page)
    assert spec["data"]["dataset"] == "xor"
    assert spec["model"]["layers"][1]["units"] == 12 and spec["model"]["layers"][2]["type"] == "dropout"
    assert spec["optimizer"] == {**spec["optimizer"], "name": "nesterov", "momentum": 0.8}

    context = browser.new_context()
    other = context.new_page()
    open_playground(other, live_server_url, page.evaluate("location.hash"))
    assert other.input_value("[data-path='/data/dataset'] select") == "xor"
    assert other.input_value("[data-path='/model/layers/1/units'] input") == "12"
    assert other.input_value("[data-path='/model/layers/2'] select.type-select") == "dropout"
    assert other.input_value("[data-path='/optimizer/momentum'] input") == "0.8"
    assert spec_in_hash(other) == spec
    context.close()


def test_the_lr_range_test_suggests_an_lr_that_one_click_applies(live_server_url, page, screenshot):
    problems = watch_console(page)
    open_playground(page, live_server_url)
    page.wait_for_function("() => document.querySelectorAll('#presets option').length > 10")
    page.select_option("#presets", "lr-range-test")
    assert page.inner_text("#train") == "Run LR range test"
    page.click("#train")
    page.wait_for_selector("#panel-lrfinder .apply-lr", timeout=180_000)
    wait_points(page, "lrfinder", 1, at_least=5)
    screenshot("lr_range_test")
    lr = float(page.get_attribute("#panel-lrfinder .apply-lr >> nth=0", "data-lr"))
    page.click("#panel-lrfinder .apply-lr >> nth=0")
    assert page.input_value("[data-path='/mode'] select") == "train"
    assert float(page.input_value("[data-path='/optimizer/lr'] input")) == pytest.approx(lr, rel=1e-2)
    assert page.inner_text("#train") == "Train"
    assert problems == [] and browser_errors(page) == []


def _answer_to(page, action):
    """Do `action` and return the answer of the validation it triggers (debounced)."""
    with page.expect_response("**/api/spec/validate") as resp:
        action()
    return resp.value


def _wait_hash(page, check, timeout_ms: int = 10_000):
    """Poll the URL hash until check(spec) holds (it is rewritten 250 ms after an edit)."""
    for _ in range(timeout_ms // 100):
        if check(spec_in_hash(page)):
            return spec_in_hash(page)
        page.wait_for_timeout(100)
    raise AssertionError(f"the hash never matched: {spec_in_hash(page)}")


def test_switching_the_optimizer_drops_the_hyperparameters_the_new_one_does_not_have(live_server_url, page, screenshot):
    problems = watch_console(page)
    open_playground(page, live_server_url)
    # the server is strict: a hyperparameter the optimizer does not have is an error
    with pytest.raises(Exception, match="/optimizer/momentum"):
        api_call(page, "validate", {"optimizer": {"name": "adam", "momentum": 0.8}})

    set_field(page, "/training/epochs", "3")
    assert _answer_to(page, lambda: page.select_option("[data-path='/optimizer/name'] select", "momentum")).ok
    answer = _answer_to(page, lambda: set_field(page, "/optimizer/momentum", "0.8"))
    assert answer.ok and answer.request.post_data_json["spec"]["optimizer"] == {"name": "momentum", "momentum": 0.8}
    _wait_hash(page, lambda s: s["optimizer"].get("momentum") == 0.8)

    answer = _answer_to(page, lambda: page.select_option("[data-path='/optimizer/name'] select", "adam"))
    assert answer.ok, answer.text()
    assert answer.request.post_data_json["spec"]["optimizer"] == {"name": "adam"}
    page.wait_for_selector("#validation[data-state='valid']", state="attached")
    assert page.locator("[data-path='/optimizer/momentum']").count() == 0  # adam has none to show
    assert page.locator("[data-path='/optimizer/betas']").count() == 1
    assert _wait_hash(page, lambda s: "momentum" not in s["optimizer"])["optimizer"] == {"name": "adam"}
    screenshot("optimizer_switched_to_adam")
    page.locator("#section-optimizer").screenshot(path=str(SHOTS / "optimizer_section_adam.png"))

    with page.expect_request("**/api/runs") as created:
        page.click("#train")
    assert created.value.post_data_json["spec"]["optimizer"] == {"name": "adam"}
    assert wait_status(page) == "succeeded"

    # the form still remembers the momentum for when momentum is chosen again
    page.select_option("[data-path='/optimizer/name'] select", "momentum")
    assert page.input_value("[data-path='/optimizer/momentum'] input") == "0.8"
    _wait_hash(page, lambda s: s["optimizer"] == {"name": "momentum", "momentum": 0.8})
    assert problems == [] and browser_errors(page) == []


def test_switching_the_schedule_drops_the_fields_the_new_one_does_not_read(live_server_url, page, screenshot):
    problems = watch_console(page)
    open_playground(page, live_server_url)
    page.click("#section-schedule > summary")  # folded away at first: the rail shows model, data, training
    with pytest.raises(Exception, match="/schedule/max_lr"):
        api_call(page, "validate", {"schedule": {"name": "cosine", "max_lr": 0.1}})

    set_field(page, "/training/epochs", "3")
    assert _answer_to(page, lambda: page.select_option("[data-path='/schedule/name'] select", "cyclic")).ok
    answer = _answer_to(page, lambda: set_field(page, "/schedule/max_lr", "0.1"))
    assert answer.ok and answer.request.post_data_json["spec"]["schedule"] == {"name": "cyclic", "max_lr": 0.1}

    answer = _answer_to(page, lambda: page.select_option("[data-path='/schedule/name'] select", "cosine"))
    assert answer.ok, answer.text()
    assert answer.request.post_data_json["spec"]["schedule"] == {"name": "cosine"}
    page.wait_for_selector("#validation[data-state='valid']", state="attached")
    assert page.locator("[data-path='/schedule/max_lr']").count() == 0
    assert page.locator("[data-path='/schedule/min_lr']").count() == 1  # what cosine does read
    assert _wait_hash(page, lambda s: "max_lr" not in s["schedule"])["schedule"] == {"name": "cosine"}

    # a gamma typed for the step schedule goes the same way when it no longer applies
    assert _answer_to(page, lambda: page.select_option("[data-path='/schedule/name'] select", "step")).ok
    assert _answer_to(page, lambda: set_field(page, "/schedule/gamma", "0.5")).ok
    answer = _answer_to(page, lambda: page.select_option("[data-path='/schedule/name'] select", "cosine"))
    assert answer.ok and answer.request.post_data_json["spec"]["schedule"] == {"name": "cosine"}
    page.wait_for_selector("#validation[data-state='valid']", state="attached")

    with page.expect_request("**/api/runs") as created:
        page.click("#train")
    assert created.value.post_data_json["spec"]["schedule"] == {"name": "cosine"}
    assert wait_status(page) == "succeeded"
    wait_points(page, "lr", 0, at_least=2)
    screenshot("schedule_switched_to_cosine")
    assert problems == [] and browser_errors(page) == []
