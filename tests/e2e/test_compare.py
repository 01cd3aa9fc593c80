"""/compare: two runs overlaid, their metrics side by side, only the differing spec fields."""

import pytest

from tests.e2e.helpers import browser_errors
from tests.e2e.instrument import create_run, wait_run_status

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

BASE = {"data": {"dataset": "xor", "n_samples": 200}, "training": {"epochs": 4, "batch_size": 32},
        "monitor": {"boundary": False, "neurons": False}}


def test_compare_two_runs_shows_curves_metrics_and_spec_diff(live_server_url, page, screenshot):
    base = live_server_url
    a = create_run(page, base, {**BASE, "name": "sgd", "optimizer": {"name": "sgd", "lr": 0.1}})
    b = create_run(page, base, {**BASE, "name": "adam", "optimizer": {"name": "adam", "lr": 0.01}})
    wait_run_status(page, a)
    page.goto(f"{base}/compare?runs={a},{b}")
    page.wait_for_selector("body[data-ready='1']", state="attached")
    # the table: one row per run, live runs update until they finish
    page.wait_for_function("() => document.querySelectorAll('#metrics-body tr').length === 2")
    wait_run_status(page, b)
    page.wait_for_function("""() => [...document.querySelectorAll('#metrics-body tr')]
        .every((tr) => tr.querySelector('[data-status=succeeded]'))""", timeout=120_000)
    # the curves: both runs' train/val loss with data, each run in its own colour
    page.wait_for_function("""() => {
        const el = document.querySelector('#cmp-loss-chart');
        return el && el.data && el.data.length === 4 && el.data.every((t) => t.x.length >= 4);
    }""", timeout=120_000)
    colours = page.evaluate("document.querySelector('#cmp-loss-chart').data.map((t) => t.line.color)")
    assert colours[0] == colours[2] and colours[1] == colours[3] and colours[0] != colours[1]
    # the spec diff: the optimizer and the names differ, nothing else
    paths = page.eval_on_selector_all("#diff-body th code", "els => els.map((e) => e.textContent)")
    assert "optimizer.name" in paths and "optimizer.lr" in paths
    assert not any(p.startswith("data.") or p.startswith("training.") for p in paths)
    # gradient flow: one colour scale for both heatmaps
    page.wait_for_function("""() => [...document.querySelectorAll('#grad-grid .js-plotly-plot')]
        .filter((el) => el.data && el.data[0]).length === 2""", timeout=60_000)
    scales = page.evaluate("""[...document.querySelectorAll('#grad-grid .js-plotly-plot')]
        .map((el) => [el.data[0].zmin, el.data[0].zmax])""")
    assert scales[0] == scales[1]
    screenshot("compare-two-runs")
    assert not browser_errors(page)


def test_compare_says_when_a_run_does_not_exist(live_server_url, page):
    page.goto(f"{live_server_url}/compare?runs=nosuchrun")
    page.wait_for_selector("body[data-ready='1']", state="attached")
    assert "nosuchrun" in page.inner_text("#compare-message")
