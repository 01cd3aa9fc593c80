"""The LR range test (Smith 2017) with fastai's smoothing, stopping rule and "valley" suggestion."""

import itertools
import json
import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from training.loop import ListSink, train
from training.lr_finder import auto_steps, find_lr, valley
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


def test_the_valley_suggestion_lies_on_the_fall_between_the_steepest_point_and_the_minimum():
    net, opt, loss_fn, batches = synthetic_setup()
    out = find_lr(net, loss_fn, opt, batches, LRFinderSpec(start_lr=1e-6, end_lr=10, steps=100, beta=0.5))
    u = math.log10(out["suggestion"])
    slope = (synthetic(u + 0.05) - synthetic(u - 0.05)) / 0.1
    assert slope < -0.2, (out["suggestion"], slope)  # still falling
    assert 1e-3 < out["suggestion"] < 0.03  # past the steepest point, before the minimum
    assert 3e-4 < out["suggestion_steep"] < 3e-3  # the secondary marks: the steepest slope ...
    assert 1e-3 < out["suggestion_min10"] * 10 < 0.1  # ... and the minimum
    assert out["rule"] == "valley" and out["steps"] == 100
    assert out["stopped_early"]  # the blow-up ended the sweep
    assert len(out["lrs"]) == len(out["losses"]) == len(out["smoothed"]) < 100


def test_a_lucky_batch_at_the_start_does_not_become_the_suggestion():
    """Mini-batch noise: one batch far below its neighbours right after the ignored first tenth
    makes the steepest slope point there; the valley still lands on the real fall."""
    net, opt, _, batches = synthetic_setup()
    g = torch.Generator().manual_seed(0)
    calls = itertools.count()

    def loss_fn(out, _y):
        i = next(calls)
        noise = 0.15 * torch.randn((), generator=g).item()
        dip = -1.5 if i == 12 else 0.0
        return out.sum() * 0 + synthetic(math.log10(opt.param_groups[0]["lr"])) + noise + dip
    out = find_lr(net, loss_fn, opt, batches, LRFinderSpec(start_lr=1e-6, end_lr=10, steps=100))
    assert out["suggestion_steep"] < 1e-5  # fooled by the lucky batch
    assert 3e-4 < out["suggestion"] < 0.03


def test_a_smooth_plateau_does_not_drag_the_valley_down():
    """On a full-batch curve the plateau also falls strictly; the valley starts once a tenth
    of the fall is made, not at the first step."""
    losses = [2.0 - 1e-4 * i for i in range(50)] + [2.0 - 0.005 - 0.05 * i for i in range(30)]
    i = valley(losses)
    assert i >= 50
    assert valley(losses, trim=0) < 50  # fastai's rule alone would have counted the plateau


def test_default_steps_follow_the_data_size():
    assert auto_steps(None) == 100
    assert auto_steps(10) == 100  # a small set: fastai's 100
    assert auto_steps(80) == 160  # two epochs of batches
    assert auto_steps(10_000) == 300  # capped
    sink = ListSink()
    train(validate({"mode": "lr_finder", "data": {"n_samples": 2000}, "training": {"batch_size": 16}}), sink)
    (event,) = sink.of("lr_finder")
    n_train = sink.of("dataset")[0]["n_train"]
    assert 100 < event["steps"] == 2 * math.ceil(n_train / 16) < 300  # two epochs of batches ...
    sink = ListSink()
    train(validate({"mode": "lr_finder", "data": {"n_samples": 2000}, "training": {"batch_size": 16},
                    "lr_finder": {"steps": 40}}), sink)
    assert sink.of("lr_finder")[0]["steps"] == 40  # ... unless the spec says otherwise


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
    assert {"lrs", "losses", "smoothed", "suggestion", "suggestion_steep", "suggestion_min10", "stopped_early",
            "steps", "rule"} <= set(event)
    assert 1e-5 <= event["suggestion"] <= 10
    assert sink.of("summary")[0]["lr_suggestion"] == event["suggestion"]
    assert not sink.of("step")  # the range test does not train the run
    json.dumps(sink.events, allow_nan=False)
