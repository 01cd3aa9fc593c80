"""Initializers match their definitions (variances from the papers), globally or per layer."""

import math

import pytest
import torch
from torch import nn

from training.model import build_model
from training.spec import validate

FAN_IN, FAN_OUT = 400, 300


def weight(init, activation="relu", **extra):
    """The first dense layer's weight (out FAN_OUT, in FAN_IN) under ``init``."""
    torch.manual_seed(0)
    spec = validate({"model": {"layers": [{"type": "dense", "units": FAN_OUT, "activation": activation}],
                               "init": {"bias": "zeros", **init}}, **extra})
    return build_model(spec, (FAN_IN,), 2).units[0].weight_module.weight.detach()


def close(value, expected, rel=0.03):
    return abs(value - expected) <= rel * expected


def test_kaiming_normal_variance_is_two_over_fan_in():
    w = weight({"weights": "kaiming_normal"})
    assert close(w.var().item(), 2 / FAN_IN) and abs(w.mean().item()) < 0.003


def test_kaiming_uniform_variance_is_two_over_fan_in():
    w = weight({"weights": "kaiming_uniform"}, activation="tanh")
    assert close(w.var().item(), 2 / FAN_IN)
    assert w.abs().max() <= math.sqrt(6 / FAN_IN)


def test_xavier_variance_is_two_over_fan_in_plus_fan_out():
    for how in ("xavier_normal", "xavier_uniform"):
        assert close(weight({"weights": how}).var().item(), 2 / (FAN_IN + FAN_OUT))
    # gain scales the variance by gain^2
    assert close(weight({"weights": "xavier_normal", "gain": 3.0}).var().item(), 9 * 2 / (FAN_IN + FAN_OUT))


def test_lecun_normal_variance_is_one_over_fan_in():
    assert close(weight({"weights": "lecun_normal"}, activation="selu").var().item(), 1 / FAN_IN)


def test_orthogonal_columns_are_orthonormal():
    w = weight({"weights": "orthogonal"})  # 300 x 400: rows orthonormal
    assert torch.allclose(w @ w.T, torch.eye(FAN_OUT), atol=1e-4)
    torch.manual_seed(0)
    net = build_model(validate({"model": {"layers": [{"type": "dense", "units": 50}],
                                          "init": {"weights": "orthogonal", "bias": "zeros"}}}), (20,), 2)
    w = net.units[0].weight_module.weight.detach()  # 50 x 20: W^T W = I
    assert torch.allclose(w.T @ w, torch.eye(20), atol=1e-5)


def test_normal_uniform_constant_and_zeros():
    assert close(weight({"weights": "normal", "std": 0.2}).std().item(), 0.2, rel=0.01)
    w = weight({"weights": "uniform", "std": 0.5})
    assert w.min() >= -0.5 and w.max() <= 0.5 and close(w.var().item(), 0.25 / 3)
    assert torch.all(weight({"weights": "constant", "value": 0.3}) == 0.3)
    assert torch.all(weight({"weights": "zeros"}) == 0)


def test_default_is_pytorchs_own_initialization():
    w = weight({"weights": "default", "bias": "default"})
    torch.manual_seed(0)
    assert torch.equal(w, nn.Linear(FAN_IN, FAN_OUT).weight.detach())


def test_conv_fan_in_counts_the_receptive_field():
    torch.manual_seed(0)
    spec = validate({"model": {"layers": [{"type": "conv2d", "filters": 64, "kernel": 5}],
                               "init": {"weights": "kaiming_normal", "bias": "zeros"}}})
    w = build_model(spec, (16, 8, 8), 2).units[0].weight_module.weight.detach()
    assert close(w.var().item(), 2 / (16 * 25))


def test_per_layer_init_overrides_the_global_one():
    torch.manual_seed(0)
    spec = validate({"model": {"layers": [{"type": "dense", "units": 10},
                                          {"type": "dense", "units": 10,
                                           "init": {"weights": "constant", "value": 0.5, "bias": "constant"}}],
                               "init": {"weights": "zeros", "bias": "zeros"}}})
    net = build_model(spec, (3,), 2)
    assert torch.all(net.units[0].weight_module.weight == 0)
    assert torch.all(net.units[1].weight_module.weight == 0.5) and torch.all(net.units[1].weight_module.bias == 0.5)
    assert torch.all(net.units[2].weight_module.weight == 0)  # the output layer keeps the global init


@pytest.mark.parametrize("how", ["zeros", "constant"])
def test_symmetric_init_never_breaks_symmetry(how):
    torch.manual_seed(0)
    spec = validate({"model": {"layers": [{"type": "dense", "units": 6, "activation": "tanh"}],
                               "init": {"weights": how, "bias": "zeros"}}})
    net = build_model(spec, (2,), 2)
    x, y = torch.randn(64, 2), torch.randint(0, 2, (64,))
    opt = torch.optim.SGD(net.parameters(), lr=0.5)
    for _ in range(50):
        opt.zero_grad()
        nn.functional.cross_entropy(net(x), y).backward()
        opt.step()
    w = net.units[0].weight_module.weight.detach()
    assert torch.allclose(w, w[0].expand_as(w))  # every hidden unit is the same unit
    if how == "constant":
        assert not torch.allclose(w, torch.full_like(w, 0.1))  # it did train, in lockstep
