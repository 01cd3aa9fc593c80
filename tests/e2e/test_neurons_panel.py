"""The neuron view on the run page: a diagram per epoch, and a scrubber through epochs."""

import pytest

from tests.e2e.helpers import browser_errors, open_run
from tests.e2e.instrument import create_run, wait_run_status

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

ARTIFACTS = __import__("tests.e2e.conftest", fromlist=["ARTIFACTS"]).ARTIFACTS


def test_dense_net_draws_neurons_and_the_scrubber_moves_through_epochs(live_server_url, page):
    spec = {"name": "neurons", "data": {"dataset": "xor", "n_samples": 200, "features": ["x1", "x2", "x1*x2"]},
            "model": {"layers": [{"type": "dense", "units": 12, "activation": "tanh"},
                                 {"type": "dense", "units": 4, "activation": "tanh"}]},
            "training": {"epochs": 3}, "monitor": {"diagnostics": False}}
    run_id = create_run(page, live_server_url, spec)
    wait_run_status(page, run_id)
    open_run(page, f"{live_server_url}/r/{run_id}")
    page.wait_for_function("() => document.querySelector('#neurons-epoch') && document.querySelector('#neurons-epoch').max === '2'",
                           timeout=60_000)
    # drawn on a coming frame (frame.js), out of view or not once the run has ended
    page.wait_for_selector("#panel-neurons canvas[aria-label*='epoch 3']", timeout=30_000)
    label = page.get_attribute("#panel-neurons canvas", "aria-label")
    assert "x1*x2" in label and "dense1 (12)" in label and "epoch 3" in label
    page.fill("#neurons-epoch", "0")
    page.dispatch_event("#neurons-epoch", "input")
    assert page.inner_text("#neurons-epoch-label") == "1"
    assert "epoch 1" in page.get_attribute("#panel-neurons canvas", "aria-label")
    # the scrubber moves the decision boundary to the same epoch, and back to the newest
    page.wait_for_function("() => document.querySelector('#panel-boundary .caption').textContent === 'epoch 1'")
    page.fill("#neurons-epoch", "2")
    page.dispatch_event("#neurons-epoch", "input")
    page.wait_for_function("() => document.querySelector('#panel-boundary .caption').textContent === 'epoch 3'")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.locator("#panel-neurons").screenshot(path=str(ARTIFACTS / "neurons-dense.png"))
    assert not browser_errors(page)


def test_conv_net_shows_filters_and_feature_maps(live_server_url, page):
    spec = {"name": "filters", "data": {"dataset": "digits", "n_samples": 300},
            "model": {"layers": [{"type": "conv2d", "filters": 8, "kernel": 3, "padding": "same", "activation": "relu"},
                                 {"type": "flatten"}]},
            "training": {"epochs": 2}, "monitor": {"diagnostics": False}}
    run_id = create_run(page, live_server_url, spec)
    wait_run_status(page, run_id)
    open_run(page, f"{live_server_url}/r/{run_id}")
    page.wait_for_selector("#panel-neurons canvas[aria-label*='8 filters']", timeout=60_000)
    page.locator("#panel-neurons").screenshot(path=str(ARTIFACTS / "neurons-conv.png"))
