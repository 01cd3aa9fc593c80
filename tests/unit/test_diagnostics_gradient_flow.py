"""Gradient flow per layer: vanishing gradients in a deep sigmoid net, healthy flow with ReLU and He init."""

import math

import torch
import torch.nn.functional as F

from training.diagnostics import Diagnostics
from training.loop import ListSink, train
from training.model import build_model
from training.spec import validate


def deep_net(activation: str, init: str, depth: int = 8, width: int = 32):
    spec = validate({"model": {"layers": [{"type": "dense", "units": width, "activation": activation}] * depth,
                               "init": {"weights": init, "bias": "zeros"}}})
    torch.manual_seed(0)
    return build_model(spec, (2,), 2)


def first_over_last(net) -> float:
    g = torch.Generator().manual_seed(1)
    x, y = torch.randn(256, 2, generator=g), torch.randint(0, 2, (256,), generator=g)
    diag = Diagnostics(net)
    F.cross_entropy(net(x), y).backward()
    diag.record_gradients(lr=0.1)
    rows = diag.collect(x)
    assert [r["name"] for r in rows] == [f"dense{i}" for i in range(1, 9)] + ["output"]
    return rows[0]["grad_norm"] / rows[-1]["grad_norm"]


def test_a_deep_sigmoid_net_has_vanishing_gradients():
    assert first_over_last(deep_net("sigmoid", "xavier_normal")) < 1e-3


def test_relu_with_he_init_keeps_gradients_flowing():
    assert first_over_last(deep_net("relu", "kaiming_normal")) > 0.1


def test_update_ratio_is_log10_of_update_std_over_weight_std():
    net = deep_net("relu", "kaiming_normal", depth=2)
    x, y = torch.randn(32, 2), torch.randint(0, 2, (32,))
    F.cross_entropy(net(x), y).backward()
    diag = Diagnostics(net)
    diag.record_gradients(lr=0.01)
    w = net.units[0].weight_module.weight
    expected = math.log10((0.01 * w.grad).std().item() / w.std().item())
    row = diag.grads["dense1"]
    assert abs(row["update_ratio"] - expected) < 1e-4
    assert abs(row["grad_norm"] - w.grad.norm().item()) < 1e-5
    assert abs(row["grad_max_abs"] - w.grad.abs().max().item()) < 1e-6


def test_the_trainer_emits_diagnostics_every_epoch():
    sink = ListSink()
    train(validate({"data": {"n_samples": 100}, "training": {"epochs": 2}, "monitor": {"boundary": False}}), sink)
    events = sink.of("diagnostics")
    assert [e["epoch"] for e in events] == [1, 2]
    keys = {"name", "grad_norm", "grad_mean_abs", "grad_max_abs", "weight_norm", "update_ratio",
            "act_mean", "act_std", "dead_frac", "saturated_frac",
            "hist", "hist_range", "hist_out", "near_zero_frac"}
    for row in events[-1]["layers"]:
        assert set(row) == keys
        assert row["grad_norm"] > 0 and -8 < row["update_ratio"] < 0
    assert events[-1]["layers"][0]["dead_frac"] is not None  # the default net is ReLU
