"""Every optimizer follows PyTorch's reference update, and its hyperparameters matter."""

import itertools

import pytest
import torch
from torch import nn

from training.optim import DEFAULTS, build_optimizer
from training.spec import SpecError, validate

A = torch.diag(torch.tensor([1.0, 25.0]))  # an ill-conditioned quadratic 0.5 w^T A w


def opt_spec(**o):
    return validate({"optimizer": o}).optimizer


def run(o, steps=20, w0=(1.0, 1.0)):
    w = nn.Parameter(torch.tensor(w0))
    holder = nn.Module()
    holder.w = w
    opt = build_optimizer(holder, opt_spec(**o))
    for _ in range(steps):
        opt.zero_grad()
        (0.5 * w @ A @ w).backward()
        opt.step()
    return w.detach()


def reference(cls, steps=20, **kw):
    w = nn.Parameter(torch.tensor([1.0, 1.0]))
    opt = cls([w], **kw)
    for _ in range(steps):
        opt.zero_grad()
        (0.5 * w @ A @ w).backward()
        opt.step()
    return w.detach()


@pytest.mark.parametrize("spec, cls, kw", [
    ({"name": "sgd", "lr": 0.03}, torch.optim.SGD, {"lr": 0.03}),
    ({"name": "momentum", "lr": 0.03}, torch.optim.SGD, {"lr": 0.03, "momentum": 0.9}),
    ({"name": "momentum", "lr": 0.03, "momentum": 0.5}, torch.optim.SGD, {"lr": 0.03, "momentum": 0.5}),
    ({"name": "nesterov", "lr": 0.03}, torch.optim.SGD, {"lr": 0.03, "momentum": 0.9, "nesterov": True}),
    ({"name": "sgd", "lr": 0.03, "momentum": 0.7, "nesterov": True, "weight_decay": 0.1}, torch.optim.SGD,
     {"lr": 0.03, "momentum": 0.7, "nesterov": True, "weight_decay": 0.1}),
    ({"name": "adagrad", "lr": 0.3, "eps": 1e-3}, torch.optim.Adagrad, {"lr": 0.3, "eps": 1e-3}),
    ({"name": "adadelta", "lr": 1.0, "rho": 0.5, "eps": 1e-4}, torch.optim.Adadelta, {"lr": 1.0, "rho": 0.5, "eps": 1e-4}),
    ({"name": "rmsprop", "lr": 0.01, "alpha": 0.8, "momentum": 0.3}, torch.optim.RMSprop,
     {"lr": 0.01, "alpha": 0.8, "momentum": 0.3}),
    ({"name": "adam", "lr": 0.05, "betas": [0.8, 0.99], "eps": 1e-6}, torch.optim.Adam,
     {"lr": 0.05, "betas": (0.8, 0.99), "eps": 1e-6}),
    ({"name": "adamw", "lr": 0.05}, torch.optim.AdamW, {"lr": 0.05}),
    ({"name": "adamw", "lr": 0.05, "weight_decay": 0.5}, torch.optim.AdamW, {"lr": 0.05, "weight_decay": 0.5}),
    ({"name": "nadam", "lr": 0.05, "betas": [0.7, 0.9]}, torch.optim.NAdam, {"lr": 0.05, "betas": (0.7, 0.9)}),
    ({"name": "radam", "lr": 0.05}, torch.optim.RAdam, {"lr": 0.05}),
])
def test_first_steps_match_the_torch_reference(spec, cls, kw):
    assert torch.allclose(run(spec), reference(cls, **kw), atol=1e-7)


@pytest.mark.parametrize("name, key, value", [
    ("momentum", "momentum", 0.5), ("adagrad", "eps", 0.5), ("adadelta", "rho", 0.3),
    ("rmsprop", "alpha", 0.5), ("rmsprop", "momentum", 0.5), ("adam", "betas", [0.5, 0.9]),
    ("adam", "eps", 0.5), ("nadam", "betas", [0.5, 0.6]), ("radam", "betas", [0.5, 0.6]),
    ("adamw", "weight_decay", 0.9), ("sgd", "weight_decay", 0.9),
])
def test_each_hyperparameter_changes_the_trajectory(name, key, value):
    lr = 1.0 if name == "adadelta" else 0.02
    assert not torch.allclose(run({"name": name, "lr": lr}), run({"name": name, "lr": lr, key: value}))


def test_every_optimizer_owns_its_defaults():
    assert DEFAULTS["momentum"]["momentum"] == 0.9 and DEFAULTS["nesterov"]["nesterov"] is True
    assert DEFAULTS["adamw"]["weight_decay"] == 0.01 and DEFAULTS["adam"]["weight_decay"] == 0.0
    for name, cfg in DEFAULTS.items():
        assert "weight_decay" in cfg, name


def test_momentum_beats_plain_sgd_on_an_ill_conditioned_quadratic():
    def loss(w):
        return (0.5 * w @ A @ w).item()

    lr = 0.03  # stable for the stiff direction (lr * 25 < 2), slow for the flat one
    plain = loss(run({"name": "sgd", "lr": lr}, 100))
    assert loss(run({"name": "momentum", "lr": lr}, 100)) < 0.1 * plain
    # near the optimal heavy ball for condition number 25: ((5 - 1) / (5 + 1))^2 ~ 0.44
    assert loss(run({"name": "momentum", "lr": lr, "momentum": 0.6}, 100)) < 1e-4 * plain


def test_nesterov_differs_from_heavy_ball_momentum():
    assert not torch.allclose(run({"name": "nesterov", "lr": 0.03}), run({"name": "momentum", "lr": 0.03}))


def test_adagrads_effective_learning_rate_decays():
    w = nn.Parameter(torch.zeros(1))
    holder = nn.Module()
    holder.w = w
    opt = build_optimizer(holder, opt_spec(name="adagrad", lr=1.0))
    steps = []
    for _ in range(5):
        before = w.item()
        opt.zero_grad()
        (3.0 * w).sum().backward()  # constant gradient
        opt.step()
        steps.append(before - w.item())
    assert all(a > b for a, b in itertools.pairwise(steps))
    assert steps[3] == pytest.approx(1 / 2, rel=1e-4)  # lr / sqrt(t)


@pytest.mark.parametrize("optimizer, path", [
    ({"name": "adam", "momentum": 0.9}, "/optimizer/momentum"),
    ({"name": "sgd", "betas": [0.9, 0.99]}, "/optimizer/betas"),
    ({"name": "rmsprop", "rho": 0.9}, "/optimizer/rho"),
    ({"name": "adadelta", "alpha": 0.9}, "/optimizer/alpha"),
    ({"name": "sgd", "nesterov": True}, "/optimizer/nesterov"),
    ({"name": "nesterov", "nesterov": False}, "/optimizer/nesterov"),
    ({"name": "momentum", "momentum": 0}, "/optimizer/momentum"),
])
def test_hyperparameters_the_optimizer_lacks_are_errors(optimizer, path):
    with pytest.raises(SpecError) as exc:
        validate({"optimizer": optimizer})
    assert path in [e["path"] for e in exc.value.errors]


def test_decoupled_decay_twice_is_an_error():
    with pytest.raises(SpecError) as exc:
        validate({"optimizer": {"name": "adamw"}, "regularization": {"weight_decay": 0.1}})
    assert exc.value.errors[0]["path"] == "/regularization/weight_decay"
