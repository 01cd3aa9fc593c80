"""Sharpness as PyHessian measures it: power iteration for the top eigenvalue, Hutchinson for the trace.

A linear model under mean squared error has the constant Hessian 2·AᵀA/n with A = [X 1].
"""

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from training.landscape import sharpness
from training.model import Net, Unit


def quadratic(n=200, d=6, seed=0):
    g = torch.Generator().manual_seed(seed)
    scales = torch.tensor([3.0, 2.0, 1.0, 0.5, 0.3, 0.1])[:d]
    x = torch.randn(n, d, generator=g) * scales + 0.2
    y = torch.randn(n, 1, generator=g)
    lin = nn.Linear(d, 1)
    net = Net([Unit("output", "dense", lin, None, lin)])
    a = torch.cat([x, torch.ones(n, 1)], 1).double()
    hessian = 2 * a.T @ a / n
    return net, x, y, hessian


def test_power_iteration_finds_the_top_eigenvalue_of_a_quadratic():
    net, x, y, hessian = quadratic()
    expected = torch.linalg.eigvalsh(hessian)[-1].item()
    out = sharpness(net, F.mse_loss, x, y, iters=100, tol=1e-6, trace_samples=1)
    assert out["top_eigenvalue"] == pytest.approx(expected, rel=1e-3)
    assert out["power_iterations"] < 100  # converged before the cap


def test_hutchinson_estimates_the_trace():
    net, x, y, hessian = quadratic()
    out = sharpness(net, F.mse_loss, x, y, iters=5, trace_samples=400)
    assert out["trace"] == pytest.approx(hessian.trace().item(), rel=0.1)


def test_sharpness_is_computed_in_eval_mode_and_restores_training_mode():
    torch.manual_seed(0)
    lin, out = nn.Linear(3, 8), nn.Linear(8, 2)
    net = Net([Unit("dense1", "dense", lin, "tanh", lin), Unit("dropout1", "dropout", nn.Dropout(0.5)),
               Unit("output", "dense", out, None, out)])
    x, y = torch.randn(64, 3), torch.randint(0, 2, (64,))
    net.train()
    a = sharpness(net, F.cross_entropy, x, y, seed=1)
    b = sharpness(net, F.cross_entropy, x, y, seed=1)
    assert a == b  # deterministic: dropout was off
    assert net.training


def test_sample_batches_give_the_same_hessian():
    net, x, y, _ = quadratic()
    whole = sharpness(net, F.mse_loss, x, y, iters=30, tol=0, trace_samples=5, seed=2)
    split = sharpness(net, F.mse_loss, x, y, iters=30, tol=0, trace_samples=5, seed=2, batch=64)
    assert split["top_eigenvalue"] == pytest.approx(whole["top_eigenvalue"], rel=1e-4)
    assert split["trace"] == pytest.approx(whole["trace"], rel=1e-4)
