"""The LR range test (Smith 2017) with fastai's smoothing, stopping rule and "steep" suggestion."""

import itertools
import json
import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from training.loop import ListSink, train
from training.lr_finder import find_lr
from training.spec import LRFinderSpec, validate


def synthetic(u: float) -> float:
    """Loss against u = log10(lr): a plateau, a descent centred at 1e-3, a minimum near 0.03, then a blow-up."""
    base = 2.0 - 1.5 / (1 + math.exp(-4 * (u + 3)))
    return base + (8 * (u + 1.5) ** 2 if u > -1.5 else 0.0)


def synthetic_setup():
    net = nn.Linear(1, 1)
    opt = torch.optim.SGD(net.parameters(), lr=0.1)

    def loss_fn(out, _y):  # depends only on the lr the finder has set
        return out.sum() * 0 + synthetic(math.log10(opt.param_groups[0]["lr"]))
    batches = itertools.repeat((torch.ones(4, 1), torch.zeros(4, 1)))
    return net, opt, loss_fn, batches


def test_the_suggestion_lies_on_the_descending_part_of_the_curve():
    net, opt, loss_fn, batches = synthetic_setup()
    out = find_lr(net, loss_fn, opt, batches, LRFinderSpec(start_lr=1e-6, end_lr=10, steps=100, beta=0.5))
    u = math.log10(out["suggestion"])
    slope = (synthetic(u + 0.05) - synthetic(u - 0.05)) / 0.1
    assert slope < -0.5, (out["suggestion"], slope)
    assert 1e-4 < out["suggestion"] < 1e-2
    assert out["stopped_early"]  # the blow-up ended the sweep
    assert 1e-3 < out["suggestion_min10"] * 10 < 0.1  # the minimum
    assert len(out["lrs"]) == len(out["losses"]) == len(out["smoothed"]) < 100


def test_the_sweep_is_exponential_and_smoothing_is_bias_corrected():
    net, opt, _, batches = synthetic_setup()
    out = find_lr(net, lambda o, y: o.sum() * 0 + 1.0, opt, batches, LRFinderSpec(start_lr=1e-4, end_lr=1.0, steps=5))
    assert out["lrs"] == pytest.approx([1e-4, 1e-3, 1e-2, 1e-1, 1.0])
    assert out["smoothed"] == pytest.approx([1.0] * 5)  # a constant loss stays constant, no warm-up bias
    assert not out["stopped_early"]


def regression():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(256, 4, generator=g)
    y = x @ torch.tensor([[1.0], [-2.0], [0.5], [3.0]]) + 0.1 * torch.randn(256, 1, generator=g)
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 1))

    return net, x, y, itertools.repeat((x, y))  # full batches: a smooth curve


def test_the_model_and_the_optimizer_are_restored():
    net, x, y, batches = regression()
    opt = torch.optim.Adam(net.parameters(), lr=0.01)
    for _ in range(3):  # some optimizer state worth restoring
        opt.zero_grad()
        F.mse_loss(net(x), y).backward()
        opt.step()
    weights = {k: v.clone() for k, v in net.state_dict().items()}
    exp_avg = [opt.state[p]["exp_avg"].clone() for p in net.parameters()]
    out = find_lr(net, F.mse_loss, opt, batches, LRFinderSpec(steps=50))
    assert len(out["lrs"]) > 5
    for k, v in net.state_dict().items():
        assert torch.equal(v, weights[k])
    assert all(torch.equal(opt.state[p]["exp_avg"], e) for p, e in zip(net.parameters(), exp_avg))
    assert opt.param_groups[0]["lr"] == 0.01


def test_sgd_diverges_and_the_suggestion_trains():
    net, x, y, batches = regression()
    opt = torch.optim.SGD(net.parameters(), lr=0.01)
    out = find_lr(net, F.mse_loss, opt, batches, LRFinderSpec(start_lr=1e-5, end_lr=10, steps=100))
    assert out["stopped_early"]
    # a few epochs at the suggested lr lower the loss
    before = F.mse_loss(net(x), y).item()
    opt = torch.optim.SGD(net.parameters(), lr=out["suggestion"])
    for _ in range(50):
        opt.zero_grad()
        F.mse_loss(net(x), y).backward()
        opt.step()
    assert F.mse_loss(net(x), y).item() < 0.5 * before


def test_a_nan_loss_ends_the_sweep_safely():
    net, opt, _, batches = synthetic_setup()

    def loss_fn(out, _y):
        lr = opt.param_groups[0]["lr"]
        return out.sum() * 0 + (float("nan") if lr > 1e-2 else 1.0 - math.log10(lr) * 0.01)
    out = find_lr(net, loss_fn, opt, batches, LRFinderSpec(start_lr=1e-5, end_lr=1, steps=50))
    assert out["losses"][-1] is None and out["stopped_early"]
    json.dumps(out, allow_nan=False)


def test_a_stop_request_ends_the_sweep():
    net, opt, loss_fn, batches = synthetic_setup()
    calls = itertools.count()
    out = find_lr(net, loss_fn, opt, batches, LRFinderSpec(steps=100), should_stop=lambda: next(calls) >= 10)
    assert len(out["lrs"]) == 10 and out["stopped_early"]


def test_lr_finder_mode_through_the_trainer():
    sink = ListSink()
    status = train(validate({"mode": "lr_finder", "data": {"n_samples": 200},
                             "lr_finder": {"steps": 40, "start_lr": 1e-5, "end_lr": 10}}), sink)
    assert status == "succeeded"
    (event,) = sink.of("lr_finder")
    assert {"lrs", "losses", "smoothed", "suggestion", "suggestion_min10", "stopped_early"} <= set(event)
    assert 1e-5 <= event["suggestion"] <= 10
    assert sink.of("summary")[0]["lr_suggestion"] == event["suggestion"]
    assert not sink.of("step")  # the range test does not train the run
    json.dumps(sink.events, allow_nan=False)
