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


def test_compare_draws_decision_boundaries_side_by_side_on_one_scale_and_the_same_axes(live_server_url, page, screenshot):
    from tests.e2e.instrument import events

    base = live_server_url
    spec = {"data": {"dataset": "xor", "n_samples": 200}, "training": {"epochs": 3, "batch_size": 32},
            "monitor": {"boundary": True, "boundary_resolution": 20, "diagnostics": False, "neurons": False}}
    a = create_run(page, base, {**spec, "name": "tanh", "model": {"layers": [{"type": "dense", "units": 4,
                                                                             "activation": "tanh"}]}})
    b = create_run(page, base, {**spec, "name": "relu", "data": {**spec["data"], "noise": 0.4}})
    wait_run_status(page, a)
    wait_run_status(page, b)
    page.goto(f"{base}/compare?runs={a},{b}")
    page.wait_for_selector("#panel-cmp-boundary:not([hidden])", timeout=60_000)
    page.wait_for_function("""() => [...document.querySelectorAll('#boundary-grid .js-plotly-plot')]
        .filter((el) => el.data && el.data.some((t) => t.type === 'heatmap')).length === 2""", timeout=60_000)
    charts = page.evaluate("""[...document.querySelectorAll('#boundary-grid .js-plotly-plot')].map((el) => {
        const heat = el.data.find((t) => t.type === 'heatmap');
        return {zmin: heat.zmin, zmax: heat.zmax, scale: JSON.stringify(heat.colorscale),
                x: el._fullLayout.xaxis.range, y: el._fullLayout.yaxis.range,
                points: el.data.filter((t) => t.type === 'scatter' && t.mode === 'markers')
                               .reduce((n, t) => n + t.x.length, 0),
                top: el.getBoundingClientRect().top, left: el.getBoundingClientRect().left};
    })""")
    # one colour scale, the same axes, the data over each, side by side in one row
    assert charts[0]["zmin"] == charts[1]["zmin"] and charts[0]["zmax"] == charts[1]["zmax"]
    assert charts[0]["scale"] == charts[1]["scale"]
    assert charts[0]["x"] == charts[1]["x"] and charts[0]["y"] == charts[1]["y"]
    assert charts[0]["points"] > 50 and charts[1]["points"] > 50
    assert charts[0]["top"] == charts[1]["top"] and charts[0]["left"] < charts[1]["left"]
    # each is its run's final boundary
    for run_id in (a, b):
        last = events(page, run_id, "boundary")[-1]["epoch"]
        caption = page.text_content(f"#boundary-grid figure[data-run='{run_id}'] figcaption")
        assert f"epoch {last}" in caption, caption
    assert "One colour scale" in page.text_content("#boundary-scale")
    screenshot("compare-boundaries")
    assert not browser_errors(page)
