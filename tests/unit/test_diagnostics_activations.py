"""Activation statistics: dead ReLUs, saturated tanh and sigmoid units, hooks that exist only while measuring."""

import torch
from torch import nn

from training.diagnostics import Diagnostics
from training.model import Net, Unit, build_model
from training.spec import validate


def mlp(activation: str, width: int = 20):
    torch.manual_seed(0)
    l1, l2, out = nn.Linear(4, width), nn.Linear(width, width), nn.Linear(width, 2)
    return Net([Unit("dense1", "dense", l1, activation, l1), Unit("dense2", "dense", l2, activation, l2),
                Unit("output", "dense", out, None, out)])


X = torch.randn(500, 4, generator=torch.Generator().manual_seed(3))


def row(net, name):
    return next(r for r in Diagnostics(net).collect(X) if r["name"] == name)


def test_dead_frac_rises_when_a_relu_bias_is_very_negative():
    net = mlp("relu")
    before = row(net, "dense1")["dead_frac"]
    with torch.no_grad():
        net.units[0].weight_module.bias[:10] = -100.0  # half the units can never fire
    after = row(net, "dense1")["dead_frac"]
    assert before < 0.1 and abs(after - 0.5) < 0.1 + before


def test_dead_frac_counts_conv_channels():
    conv = nn.Conv2d(1, 4, 3, padding=1)
    lin = nn.Linear(4 * 5 * 5, 2)
    net = Net([Unit("conv1", "conv2d", conv, "relu", conv),
               Unit("output", "dense", nn.Sequential(nn.Flatten(), lin), None, lin)])
    with torch.no_grad():
        conv.bias[:] = torch.tensor([-100.0, 0.0, 0.0, 0.0])
    rows = Diagnostics(net).collect(torch.randn(50, 1, 5, 5))
    assert rows[0]["dead_frac"] == 0.25


def test_saturated_frac_is_high_for_tanh_with_huge_weights():
    net = mlp("tanh")
    assert row(net, "dense1")["saturated_frac"] < 0.2
    with torch.no_grad():
        net.units[0].weight_module.weight.mul_(100)
    assert row(net, "dense1")["saturated_frac"] > 0.8


def test_saturated_frac_is_measured_for_sigmoid_near_zero_and_one():
    net = mlp("sigmoid")
    with torch.no_grad():
        net.units[0].weight_module.weight.mul_(100)
    r = row(net, "dense1")
    assert r["saturated_frac"] > 0.8 and r["dead_frac"] is None
    assert row(net, "output")["saturated_frac"] is None  # a linear output is never "saturated"


def test_an_activation_layer_after_batchnorm_is_where_the_layer_is_measured():
    spec = validate({"model": {"layers": [{"type": "dense", "units": 8, "activation": "linear"},
                                          {"type": "batchnorm"}, {"type": "activation", "fn": "relu"}]}})
    net = build_model(spec, (4,), 2)
    r = row(net, "dense1")
    assert r["dead_frac"] is not None
    assert r["act_mean"] > 0  # post-ReLU activations


def test_collect_uses_eval_mode_and_leaves_no_hooks_behind():
    net = mlp("relu")
    net.units.insert(1, Unit("dropout1", "dropout", nn.Dropout(0.9)))
    net.train()
    diag = Diagnostics(net)
    a, b = diag.collect(X), diag.collect(X)
    assert a == b  # dropout is off while measuring
    assert net.training
    assert all(not m._forward_hooks for m in net.modules())


def test_layers_without_recorded_gradients_report_null_gradient_fields():
    rows = Diagnostics(mlp("relu")).collect(X)
    assert rows[0]["grad_norm"] is None and rows[0]["act_std"] > 0
