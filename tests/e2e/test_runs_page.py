"""/runs: the visitor's runs, newest first, filtered, compared, deleted."""

import pytest

from tests.e2e.helpers import browser_errors
from tests.e2e.instrument import QUIET, create_run, wait_run_status

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]


def test_runs_page_lists_filters_compares_and_deletes(live_server_url, page, screenshot):
    base = live_server_url
    quick = {"data": {"dataset": "moons", "n_samples": 120}, "training": {"epochs": 2}, "monitor": QUIET}
    a = create_run(page, base, {**quick, "name": "alpha moons"})
    b = create_run(page, base, {**quick, "name": "beta spiral", "data": {"dataset": "spiral", "n_samples": 120}})
    wait_run_status(page, a)
    wait_run_status(page, b)
    # the list reads the runs' rows, written when each run is recorded as finished
    page.wait_for_function("""async () => (await (await fetch('/api/runs')).json()).runs
        .slice(0, 2).every((r) => r.best_val)""", timeout=60_000, polling=500)
    page.goto(f"{base}/runs")
    page.wait_for_selector("body[data-ready='1']", state="attached")
    names = page.eval_on_selector_all("#runs-body tr td:nth-child(2)", "els => els.map((e) => e.textContent)")
    assert names[:2] == ["beta spiral", "alpha moons"]  # newest first
    row = page.locator(f"tr[data-run='{a}']")
    assert "moons" in row.inner_text() and "dense 8 relu" in row.inner_text() and "val accuracy" in row.inner_text()
    page.fill("#runs-filter", "spiral")
    assert page.locator("#runs-body tr").count() == 1
    page.fill("#runs-filter", "")
    # select both → Compare
    page.check(f"tr[data-run='{a}'] input[type=checkbox]")
    page.check(f"tr[data-run='{b}'] input[type=checkbox]")
    assert page.is_enabled("#compare-selected")
    screenshot("runs-page")
    page.click("#compare-selected")
    page.wait_for_url(f"**/compare?runs={a},{b}")
    # delete one
    page.goto(f"{base}/runs")
    page.wait_for_selector("body[data-ready='1']", state="attached")
    page.check(f"tr[data-run='{b}'] input[type=checkbox]")
    page.once("dialog", lambda d: d.accept())
    page.click("#delete-selected")
    page.wait_for_selector(f"tr[data-run='{b}']", state="detached")
    assert page.locator(f"tr[data-run='{a}']").count() == 1
    assert not browser_errors(page)
