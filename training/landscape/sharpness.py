"""Sharpness at the end of training, as PyHessian measures it (Yao et al. 2020,
https://arxiv.org/abs/1912.07145): the top Hessian eigenvalue by power iteration on
Hessian-vector products, the trace by Hutchinson's estimator with Rademacher vectors.

Both stop on a tolerance or a cap (100 each by default; 20 gave 0.2-1.3 % error on the
eigenvalue and 2-23 % on the trace, issue 9) and the trace comes with its standard error.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import nn

from training.landscape.payload import finite6
from training.landscape.surface import LossFn


def _hvp_setup(net, loss_fn, x, y, batch: int):
    """Hessian-vector products by double backward, averaged over sample batches.

    With a single batch the first-order graph is built once and kept for every product.
    """
    params = [p for p in net.parameters() if p.requires_grad]

    def first_order(xb, yb):
        loss = loss_fn(net(xb), yb)
        grads = torch.autograd.grad(loss, params, create_graph=True, allow_unused=True)
        return [(p, g) for p, g in zip(params, grads) if g is not None and g.requires_grad]

    cached = first_order(x, y) if len(x) <= batch else None

    def hvp(v: list[torch.Tensor]) -> list[torch.Tensor]:
        out = [torch.zeros_like(p) for p in params]
        index = {id(p): i for i, p in enumerate(params)}
        for lo in range(0, len(x), batch):
            pairs = cached if cached is not None else first_order(x[lo:lo + batch], y[lo:lo + batch])
            if not pairs:  # the loss is at most linear in the parameters: H = 0
                continue
            hv = torch.autograd.grad([g for _, g in pairs], [p for p, _ in pairs],
                                     grad_outputs=[v[index[id(p)]] for p, _ in pairs],
                                     retain_graph=cached is not None, allow_unused=True)
            w = min(batch, len(x) - lo) / len(x)
            for (p, _), h in zip(pairs, hv):
                if h is not None:
                    out[index[id(p)]].add_(h, alpha=w)
        return out
    return params, hvp


def _dot(a: list[torch.Tensor], b: list[torch.Tensor]) -> float:
    return float(sum((x * y).sum() for x, y in zip(a, b)))


def sharpness(net: nn.Module, loss_fn: LossFn, x: torch.Tensor, y: torch.Tensor, iters: int = 100,
              trace_samples: int = 100, tol: float = 1e-4, trace_rtol: float = 0.01, min_trace_samples: int = 10,
              seed: int = 0, batch: int = 4096, should_stop: Callable[[], bool] | None = None) -> dict:
    """Top Hessian eigenvalue and trace of the loss on ``x, y``.

    Power iteration stops when the Rayleigh quotient changes by less than ``tol``
    (relative); Hutchinson stops once its standard error is below ``trace_rtol`` of the
    estimate (after ``min_trace_samples``). ``should_stop`` is checked before every
    Hessian-vector product; a stopped computation reports what it has, with ``stopped``.
    """
    stop = should_stop or (lambda: False)
    was = net.training
    net.eval()
    gen = torch.Generator().manual_seed(seed)
    eig, used, samples, stopped = None, 0, [], False
    try:
        with torch.enable_grad():
            params, hvp = _hvp_setup(net, loss_fn, x, y, batch)
            # 1. power iteration on a normalized iterate (PyHessian's eigenvalues())
            v = [torch.randn(p.shape, generator=gen).to(p) for p in params]
            norm = math.sqrt(_dot(v, v))
            v = [vi / norm for vi in v]
            while used < iters:
                if stop():
                    stopped = True
                    break
                used += 1
                hv = hvp(v)
                new = _dot(hv, v)  # the Rayleigh quotient of the unit iterate
                norm = math.sqrt(_dot(hv, hv)) + 1e-12
                v = [h / norm for h in hv]
                converged = eig is not None and abs(new - eig) <= tol * (abs(eig) + 1e-6)
                eig = new
                if converged:
                    break
            # 2. Hutchinson: E[vᵀHv] = tr(H) for Rademacher v
            while not stopped and len(samples) < trace_samples:
                if stop():
                    stopped = True
                    break
                r = [(torch.randint(0, 2, p.shape, generator=gen) * 2 - 1).to(p) for p in params]
                samples.append(_dot(hvp(r), r))
                se = _stderr(samples)
                if len(samples) >= min_trace_samples and se is not None and se <= trace_rtol * abs(_mean(samples)):
                    break
    finally:
        net.train(was)
    return {"top_eigenvalue": finite6(eig), "trace": finite6(_mean(samples)), "trace_stderr": finite6(_stderr(samples)),
            "power_iterations": used, "trace_samples": len(samples), "stopped": stopped}


def _mean(xs: list[float]) -> float | None:
    return sum(xs) / len(xs) if xs else None


def _stderr(xs: list[float]) -> float | None:
    if len(xs) < 2:
        return None
    m = _mean(xs)
    return math.sqrt(sum((v - m) ** 2 for v in xs) / (len(xs) - 1) / len(xs))

