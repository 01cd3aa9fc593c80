"""L1, L2, decoupled weight decay, max-norm and gradient clipping do what they say."""

import functools

import pytest
import torch
from torch import nn

from training.model import build_model
from training.optim import Regularizer, decayed_weights
from training.spec import validate


def setup(reg=None, layers=None, opt="sgd", lr=0.1):
    torch.manual_seed(0)
    spec = validate({"model": {"layers": layers or [{"type": "dense", "units": 16}, {"type": "batchnorm"}]},
                     "regularization": reg or {}, "optimizer": {"name": opt, "lr": lr}})
    net = build_model(spec, (10,), 2)
    return net, Regularizer(spec.regularization, net)


@functools.cache
def fit_weights(reg_items=(), steps=100, lr=0.1):
    net, r = setup(dict(reg_items), lr=lr)
    g = torch.Generator().manual_seed(1)
    x = torch.randn(128, 10, generator=g)
    y = (x[:, 0] > 0).long()  # only the first feature matters
    opt = torch.optim.SGD(net.parameters(), lr=lr)
    for _ in range(steps):
        opt.zero_grad()
        loss = nn.functional.cross_entropy(net(x), y)
        penalty, _ = r.penalty()
        (loss + penalty if penalty is not None else loss).backward()
        r.before_step()
        opt.step()
        r.after_step(lr)
    return weights(net)


def fit(reg):
    return fit_weights(tuple(sorted(reg.items())))


def weights(net):
    return torch.cat([w.detach().flatten() for w in decayed_weights(net)])


def test_penalty_is_l1_sum_abs_plus_l2_sum_squares_over_weights_only():
    net, r = setup({"l1": 0.01, "l2": 0.1})
    ws = decayed_weights(net)
    assert len(ws) == 2 and all(w.dim() == 2 for w in ws)  # no biases, no batchnorm scale
    total, parts = r.penalty()
    l1 = 0.01 * sum(w.abs().sum() for w in ws).item()
    l2 = 0.1 * sum((w ** 2).sum() for w in ws).item()
    assert parts == pytest.approx({"l1": l1, "l2": l2}, rel=1e-5)
    assert total.item() == pytest.approx(l1 + l2, rel=1e-5) and total.requires_grad
    assert setup()[1].penalty() == (None, {})


def test_l1_makes_weights_sparser():
    plain, sparse = fit({}), fit({"l1": 0.01})
    assert (sparse.abs() < 1e-2).sum() > 3 * max(1, (plain.abs() < 1e-2).sum())


def test_l2_shrinks_the_weight_norm():
    assert fit({"l2": 0.03}).norm() < 0.7 * fit({}).norm()


def test_decoupled_weight_decay_shrinks_the_weight_norm():
    assert fit({"weight_decay": 0.1}).norm() < 0.7 * fit({}).norm()


def test_decoupled_weight_decay_is_w_minus_lr_wd_w():
    net, r = setup({"weight_decay": 0.5})
    before = [w.detach().clone() for w in decayed_weights(net)]
    biases = [m.bias.detach().clone() for m in net.modules() if isinstance(m, nn.Linear)]
    r.after_step(0.1)
    for b, w in zip(before, decayed_weights(net)):
        assert torch.allclose(w, b - 0.1 * 0.5 * b)
    assert all(torch.equal(b, m.bias) for b, m in zip(biases, [m for m in net.modules() if isinstance(m, nn.Linear)]))


def test_max_norm_caps_every_units_incoming_weights():
    layers = [{"type": "conv2d", "filters": 6, "init": {"weights": "normal", "std": 2.0}},
              {"type": "dense", "units": 12, "init": {"weights": "normal", "std": 2.0}}]
    torch.manual_seed(0)
    spec = validate({"model": {"layers": layers}, "regularization": {"max_norm": 1.5}})
    net = build_model(spec, (2, 5, 5), 3)
    r = Regularizer(spec.regularization, net)
    small = net.units[-1].weight_module.weight
    with torch.no_grad():
        small.mul_(0.01)
    kept = small.detach().clone()
    r.after_step(0.1)
    for w in decayed_weights(net):
        norms = w.detach().flatten(1).norm(dim=1)  # a row of a dense weight, a filter of a conv
        assert (norms <= 1.5 + 1e-5).all()
    conv_norms = net.units[0].weight_module.weight.detach().flatten(1).norm(dim=1)
    assert torch.allclose(conv_norms, torch.full_like(conv_norms, 1.5))  # rescaled, direction kept
    assert torch.equal(kept, small)  # rows already within the cap are untouched


def test_grad_clip_norm_caps_the_total_norm():
    net, r = setup({"grad_clip_norm": 0.5})
    (net(torch.randn(32, 10) * 100) ** 2).sum().backward()
    before = torch.cat([p.grad.flatten() for p in net.parameters()]).norm()
    r.before_step()
    after = torch.cat([p.grad.flatten() for p in net.parameters()]).norm()
    assert before > 0.5 and after == pytest.approx(0.5, rel=1e-4)


def test_grad_clip_value_caps_each_entry():
    net, r = setup({"grad_clip_value": 0.01})
    (net(torch.randn(32, 10) * 100) ** 2).sum().backward()
    assert max(p.grad.abs().max() for p in net.parameters()) > 0.01
    r.before_step()
    grads = torch.cat([p.grad.flatten() for p in net.parameters()])
    assert grads.abs().max() <= 0.01 and (grads.abs() == 0.01).any()
