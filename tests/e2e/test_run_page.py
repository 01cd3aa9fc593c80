"""The shared run page: fork, replay, edit in playground, and a failure shown clearly."""

import pytest

from tests.e2e.helpers import (
    browser_errors,
    open_playground,
    open_run,
    set_field,
    spec_in_hash,
    trace_points,
    wait_status,
    watch_console,
)

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]


def _finished_run(page, base: str, epochs: int = 3) -> str:
    open_playground(page, base)
    set_field(page, "/training/epochs", str(epochs))
    page.wait_for_selector("#validation[data-state='valid']", state="attached")
    page.click("#train")
    page.wait_for_selector("#run-share .share-url")
    url = page.input_value("#run-share .share-url")
    wait_status(page)
    return url


def test_fork_starts_a_new_run_of_the_same_spec(live_server_url, page, screenshot):
    problems = watch_console(page)
    url = _finished_run(page, live_server_url)
    parent_id = url.rstrip("/").rsplit("/", 1)[1]
    open_run(page, url)
    wait_status(page)
    page.click("#fork")
    page.wait_for_function(f"() => !location.pathname.endsWith('/{parent_id}')", timeout=30_000)
    page.wait_for_selector("body[data-ready='1']", state="attached")
    assert parent_id in page.inner_text("#run-facts")
    assert wait_status(page) == "succeeded"
    screenshot("forked_run")
    assert problems == [] and browser_errors(page) == []


def test_replay_redraws_a_finished_run_and_edit_opens_its_spec(live_server_url, page, screenshot):
    problems = watch_console(page)
    url = _finished_run(page, live_server_url, epochs=4)
    open_run(page, url)
    wait_status(page)
    page.wait_for_function("() => document.querySelector('#panel-accuracy .js-plotly-plot')?.data?.[0]?.x?.length === 4")
    page.select_option("#replay-speed", "20")
    page.click("#replay")
    page.wait_for_selector("#replay-progress:not([hidden])")
    page.wait_for_selector("#replay-progress", state="hidden", timeout=60_000)
    assert trace_points(page, "accuracy", 0) == 4
    screenshot("run_page_after_replay")

    page.click("#edit")
    page.wait_for_selector("body[data-ready='1']", state="attached")
    page.wait_for_selector("#section-data select")
    assert spec_in_hash(page)["training"]["epochs"] == 4
    assert page.input_value("[data-path='/training/epochs'] input") == "4"
    assert problems == [] and browser_errors(page) == []


def test_a_diverged_run_says_so(live_server_url, page, screenshot):
    open_playground(page, live_server_url)
    page.wait_for_function("() => document.querySelectorAll('#presets option').length > 10")
    page.select_option("#presets", "lr-too-high")
    page.click("#train")
    assert wait_status(page) == "diverged"
    alert = page.locator("#run .alert")
    assert alert.is_visible() and "Diverged" in alert.inner_text()
    screenshot("diverged_run")


def test_stop_cancels_a_running_run_and_says_so(live_server_url, page, screenshot):
    problems = watch_console(page)
    open_playground(page, live_server_url)
    set_field(page, "/training/epochs", "500")
    page.wait_for_selector("#validation[data-state='valid']", state="attached")
    page.click("#train")
    page.wait_for_selector(".run-head [data-status='running']", timeout=120_000)
    page.click("#stop")
    assert wait_status(page) == "cancelled"
    assert page.locator("#stop").is_hidden()
    assert page.locator("#run .alert").is_visible()
    screenshot("cancelled_run")
    assert problems == [] and browser_errors(page) == []
