"""LAMB follows the paper's update (You et al. 2019, Algorithm 2) step by step."""

import math

import torch

from training.lamb import Lamb


def _paper_steps(w0, grads, lr, b1, b2, eps, wd):
    """Algorithm 2 written out with plain Python floats, one layer."""
    w = list(w0)
    m = [0.0] * len(w)
    v = [0.0] * len(w)
    for t, g in enumerate(grads, start=1):
        m = [b1 * mi + (1 - b1) * gi for mi, gi in zip(m, g)]
        v = [b2 * vi + (1 - b2) * gi * gi for vi, gi in zip(v, g)]
        r = [(mi / (1 - b1 ** t)) / (math.sqrt(vi / (1 - b2 ** t)) + eps) + wd * wi for mi, vi, wi in zip(m, v, w)]
        wn = math.sqrt(sum(x * x for x in w))
        rn = math.sqrt(sum(x * x for x in r))
        ratio = wn / rn if wn > 0 and rn > 0 else 1.0
        w = [wi - lr * ratio * ri for wi, ri in zip(w, r)]
    return w


def test_lamb_matches_the_papers_update_on_a_small_tensor():
    w0 = [0.5, -1.5, 2.0, 0.25]
    grads = [[0.1, -0.2, 0.3, 0.05], [0.4, 0.1, -0.2, 0.0], [-0.3, 0.2, 0.1, 0.6]]
    p = torch.nn.Parameter(torch.tensor(w0, dtype=torch.float64))
    opt = Lamb([p], lr=0.1, betas=(0.9, 0.99), eps=1e-6, weight_decay=0.01)
    for g in grads:
        p.grad = torch.tensor(g, dtype=torch.float64)
        opt.step()
    expected = _paper_steps(w0, grads, 0.1, 0.9, 0.99, 1e-6, 0.01)
    assert torch.allclose(p.detach(), torch.tensor(expected, dtype=torch.float64), atol=1e-12)


def test_trust_ratio_makes_the_step_proportional_to_the_layers_norm():
    # two layers with gradients of wildly different scale move by the same relative amount
    a = torch.nn.Parameter(torch.full((10,), 1.0))
    b = torch.nn.Parameter(torch.full((10,), 100.0))
    opt = Lamb([a, b], lr=0.01)
    a.grad = torch.full((10,), 1e-4)
    b.grad = torch.full((10,), 1e4)
    opt.step()
    rel_a = (1.0 - a.detach()).norm() / 1.0 / math.sqrt(10)
    rel_b = (100.0 - b.detach()).norm() / 100.0 / math.sqrt(10)
    assert abs(rel_a - 0.01) < 1e-6 and abs(rel_b - 0.01) < 1e-6


def test_zero_weights_take_the_plain_adam_step():
    p = torch.nn.Parameter(torch.zeros(3))
    opt = Lamb([p], lr=0.1)
    p.grad = torch.tensor([1.0, -1.0, 2.0])
    opt.step()
    assert opt.state[p]["trust_ratio"] == 1.0
    assert torch.allclose(p.detach(), torch.tensor([-0.1, 0.1, -0.1]), atol=1e-5)
