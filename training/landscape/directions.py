"""Parameters as named tensors, filter-normalized directions and grid axes (Li et al. 2018, §4).

The reference (https://github.com/tomgoldstein/loss-landscape) defaults to
``--xnorm filter --xignore biasbn``: Gaussian directions whose every output slice (a conv
filter, a dense row) is rescaled to the norm of the matching weight slice, and zero
directions for 1-D parameters (biases, normalization).
"""

from __future__ import annotations

import math

import torch
from torch import nn

Params = dict[str, torch.Tensor]


def params_of(net: nn.Module) -> Params:
    """The parameters by name, detached: views of the live weights, not copies."""
    return {k: v.detach() for k, v in net.named_parameters()}


def float_buffers_of(net: nn.Module) -> Params:
    """Floating-point buffers (batch-norm running statistics), detached; counters are left out."""
    return {k: v.detach() for k, v in net.named_buffers() if v.is_floating_point()}


def flatten(p: Params) -> torch.Tensor:
    if not p:
        return torch.zeros(0)
    return torch.cat([v.reshape(-1) for v in p.values()])


def unflatten(flat: torch.Tensor, like: Params) -> Params:
    out, i = {}, 0
    for k, v in like.items():
        out[k] = flat[i:i + v.numel()].view_as(v)
        i += v.numel()
    return out


def filter_normalize(d: torch.Tensor, w: torch.Tensor, ignore_1d: bool = True) -> torch.Tensor:
    """Rescale each output slice of ``d`` to the norm of the same slice of ``w``.

    1-D parameters (biases, normalization) get a zero direction when ``ignore_1d``, else
    the weights themselves (the reference's ``--xignore biasbn`` and its fallback).
    """
    if w.dim() <= 1:
        return torch.zeros_like(w) if ignore_1d else w.clone()
    dn = d.reshape(len(d), -1).norm(dim=1)
    wn = w.reshape(len(w), -1).norm(dim=1)
    scale = (wn / (dn + 1e-10)).reshape(-1, *([1] * (d.dim() - 1)))
    return d * scale


def random_directions(center: Params, seed: int, n: int = 2, ignore_1d: bool = True) -> list[Params]:
    """``n`` filter-normalized Gaussian directions; a CPU generator makes them device-independent."""
    gen = torch.Generator().manual_seed(seed)
    dirs = []
    for _ in range(n):
        d = {}
        for k, w in center.items():
            g = torch.randn(w.shape, generator=gen, dtype=torch.float32).to(w.device, w.dtype)
            d[k] = filter_normalize(g, w, ignore_1d)
        dirs.append(d)
    return dirs


def ignore_mask(center: Params) -> torch.Tensor:
    """Flat 0/1 mask that zeroes 1-D parameters, for PCA directions (the reference's ignore_biasbn)."""
    return torch.cat([torch.full((v.numel(),), float(v.dim() > 1), device=v.device) for v in center.values()])


# ---------------------------------------------------------------- grid axes


def centered_axis(span: float, resolution: int) -> torch.Tensor:
    """``resolution`` evenly spaced coordinates in [-span, span] with 0 always among them.

    An odd resolution is ``linspace(-span, span)``; an even one cannot be symmetric and
    still hold 0, so it ends at +span and starts one step short of -span.
    """
    half = math.ceil((resolution - 1) / 2)
    h = span / half
    return h * (torch.arange(resolution, dtype=torch.float64) - (resolution - 1 - half))


def interpolation_axis(resolution: int) -> torch.Tensor:
    """Coordinates around [0, 1] (about -0.5 to 1.5) with α = 0 and α = 1 always on the grid.

    The step is 1/k for an integer k, so both ends of the segment are grid points at every
    resolution; what is left over extends the segment on both sides.
    """
    k = (resolution - 1) // 2 if resolution >= 5 else resolution - 1  # 3 or 4 points: just the segment
    extra = resolution - 1 - k
    left = extra // 2
    return (torch.arange(resolution, dtype=torch.float64) - left) / k
