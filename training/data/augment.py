"""Augmentations applied per batch on the device, keyed by the spec's augment types.

:func:`build_augmenter` turns the spec's ``augment`` list into one function
``augment(x, y, generator) -> (x, y)`` that the trainer calls on every training batch.
Every op is vectorized over the batch (no Python loop over samples) and applies to each
sample independently with probability ``p``. Random numbers come from the trainer's CPU
``torch.Generator`` (drawn on the CPU, then moved to the device), so a run is the same
on every machine with the same seed. Items run in the order of the list.

The geometric helpers (:func:`rotate`, :func:`zoom`, :func:`shift`, :func:`erase_box`)
take explicit per-sample parameters; the ops draw those parameters and call them.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F

from training.spec import IMAGE_AUGMENTS, SpecError

Op = Callable[..., tuple[torch.Tensor, torch.Tensor]]
Augmenter = Callable[[torch.Tensor, torch.Tensor, torch.Generator], tuple[torch.Tensor, torch.Tensor]]
AUGMENTS: dict[str, Op] = {}


def register(name: str) -> Callable[[Op], Op]:
    def deco(fn: Op) -> Op:
        AUGMENTS[name] = fn
        return fn

    return deco


# ---------------------------------------------------------------- random draws


def _rand(g: torch.Generator, n: int, device: torch.device, lo: float = 0.0, hi: float = 1.0) -> torch.Tensor:
    return (torch.rand(n, generator=g) * (hi - lo) + lo).to(device)


def _chosen(g: torch.Generator, n: int, p: float, device: torch.device) -> torch.Tensor:
    """Which samples an op applies to: a Bernoulli(p) draw per sample."""
    return (torch.rand(n, generator=g) < p).to(device)


def _beta(g: torch.Generator, alpha: float, n: int, device: torch.device) -> torch.Tensor:
    # torch's Beta sampler takes no generator; seed a numpy one from the run's generator
    seed = int(torch.randint(0, 2**62, (1,), generator=g))
    lam = np.random.default_rng(seed).beta(alpha, alpha, n)
    return torch.as_tensor(lam, dtype=torch.float32).to(device)


def _per_sample(v: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """A (N,) tensor shaped to broadcast against ``x``."""
    return v.view(-1, *([1] * (x.dim() - 1)))


# ---------------------------------------------------------------- geometry helpers


def _affine(x: torch.Tensor, theta: torch.Tensor) -> torch.Tensor:
    """Resample ``x`` (N, C, H, W) through per-sample 2x3 maps from output to input coordinates."""
    grid = F.affine_grid(theta.to(x.dtype), list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


def rotate(x: torch.Tensor, degrees: torch.Tensor) -> torch.Tensor:
    """Rotate each image about its centre by ``degrees[n]``; +90 equals ``torch.rot90(x, 1, (-2, -1))``."""
    a = torch.deg2rad(degrees.to(x.device, torch.float32))
    c, s = torch.cos(a), torch.sin(a)
    zero = torch.zeros_like(a)
    # non-square images: affine_grid's coordinates are normalized per axis, so the map
    # is conjugated by the aspect ratio to stay a true rotation in pixel units
    h, w = x.shape[-2:]
    r = w / h
    theta = torch.stack([torch.stack([c, -s / r, zero], 1), torch.stack([s * r, c, zero], 1)], 1)
    return _affine(x, theta)


def zoom(x: torch.Tensor, factor: torch.Tensor) -> torch.Tensor:
    """Scale each image about its centre by ``factor[n]`` (> 1 zooms in; the border fills with 0)."""
    inv = 1.0 / factor.to(x.device, torch.float32)
    zero = torch.zeros_like(inv)
    theta = torch.stack([torch.stack([inv, zero, zero], 1), torch.stack([zero, inv, zero], 1)], 1)
    return _affine(x, theta)


def shift(x: torch.Tensor, dy: torch.Tensor, dx: torch.Tensor) -> torch.Tensor:
    """Move each image by whole pixels (``dy[n]`` down, ``dx[n]`` right), filling with 0.

    Whole pixels keep small images sharp (torchvision's RandomAffine rounds translations
    the same way); pad-and-crop is this with offsets in [-padding, padding].
    """
    n, _, h, w = x.shape
    dy, dx = dy.to(x.device, torch.long), dx.to(x.device, torch.long)
    rows = torch.arange(h, device=x.device)[None, :] - dy[:, None]  # source row of each output row
    cols = torch.arange(w, device=x.device)[None, :] - dx[:, None]
    valid = ((rows >= 0) & (rows < h))[:, :, None] & ((cols >= 0) & (cols < w))[:, None, :]
    batch = torch.arange(n, device=x.device)[:, None, None]
    out = x[batch, :, rows.clamp(0, h - 1)[:, :, None], cols.clamp(0, w - 1)[:, None, :]]  # (N, H, W, C)
    return out.permute(0, 3, 1, 2) * valid[:, None].to(x.dtype)


def box_mask(shape: tuple[int, int], top: torch.Tensor, left: torch.Tensor, bottom: torch.Tensor,
             right: torch.Tensor) -> torch.Tensor:
    """(N, 1, H, W) booleans: True inside rows [top, bottom) and columns [left, right)."""
    h, w = shape
    device = top.device
    rows = torch.arange(h, device=device)[None, :]
    cols = torch.arange(w, device=device)[None, :]
    r = (rows >= top[:, None]) & (rows < bottom[:, None])
    c = (cols >= left[:, None]) & (cols < right[:, None])
    return (r[:, :, None] & c[:, None, :])[:, None]


def erase_box(x: torch.Tensor, top: torch.Tensor, left: torch.Tensor, h: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """Set each image's box (all channels) to 0, the mean of standardized data."""
    return x.masked_fill(box_mask(tuple(x.shape[-2:]), top, left, top + h, left + w), 0.0)


# ---------------------------------------------------------------- image ops


@register("hflip")
def _hflip(item, x, y, g, n_classes):
    m = _chosen(g, len(x), item.p, x.device)
    return torch.where(_per_sample(m, x), x.flip(-1), x), y


@register("vflip")
def _vflip(item, x, y, g, n_classes):
    m = _chosen(g, len(x), item.p, x.device)
    return torch.where(_per_sample(m, x), x.flip(-2), x), y


@register("rotate")
def _rotate(item, x, y, g, n_classes):
    m = _chosen(g, len(x), item.p, x.device)
    angle = _rand(g, len(x), x.device, -item.degrees, item.degrees)
    return torch.where(_per_sample(m, x), rotate(x, angle), x), y


@register("scale")
def _scale(item, x, y, g, n_classes):
    m = _chosen(g, len(x), item.p, x.device)
    factor = _rand(g, len(x), x.device, *item.scale)
    return torch.where(_per_sample(m, x), zoom(x, factor), x), y


def _random_shift(x, m, g, max_dy: float, max_dx: float):
    n = len(x)
    dy = torch.round(_rand(g, n, x.device, -max_dy, max_dy)).long() * m
    dx = torch.round(_rand(g, n, x.device, -max_dx, max_dx)).long() * m
    return shift(x, dy, dx)


@register("translate")
def _translate(item, x, y, g, n_classes):
    m = _chosen(g, len(x), item.p, x.device)
    h, w = x.shape[-2:]
    return _random_shift(x, m, g, item.shift * h, item.shift * w), y


@register("crop")
def _crop(item, x, y, g, n_classes):
    """Pad by ``padding`` zeros, crop back to the original size at a random offset."""
    m = _chosen(g, len(x), item.p, x.device)
    n, p = len(x), item.padding
    dy = torch.randint(-p, p + 1, (n,), generator=g).to(x.device) * m
    dx = torch.randint(-p, p + 1, (n,), generator=g).to(x.device) * m
    return shift(x, dy, dx), y


@register("erase")
def _erase(item, x, y, g, n_classes):
    """Random erasing (Zhong et al. 2017): a box of area ``scale`` x H x W, aspect ratio 0.3-3.3."""
    n, (h, w) = len(x), x.shape[-2:]
    m = _chosen(g, n, item.p, x.device)
    area = _rand(g, n, x.device, *item.scale) * h * w
    ratio = torch.exp(_rand(g, n, x.device, math.log(0.3), math.log(1 / 0.3)))
    bh = torch.round(torch.sqrt(area * ratio)).clamp(1, h)
    bw = torch.round(area / bh).clamp(1, w)  # from bh, so that bh * bw is as close to area as can be
    top = torch.floor(_rand(g, n, x.device) * (h - bh + 1))
    left = torch.floor(_rand(g, n, x.device) * (w - bw + 1))
    bh = (bh * m).long()  # an empty box where the op does not apply
    return erase_box(x, top.long(), left.long(), bh, bw.long()), y


# ---------------------------------------------------------------- any input


@register("gaussian_noise")
def _gaussian_noise(item, x, y, g, n_classes):
    m = _chosen(g, len(x), item.p, x.device)
    noise = torch.randn(x.shape, generator=g).to(x.device, x.dtype)
    return x + item.std * noise * _per_sample(m, x).to(x.dtype), y


def _soft(y: torch.Tensor, n_classes: int) -> torch.Tensor:
    return F.one_hot(y, n_classes).float() if y.dtype == torch.int64 else y


@register("mixup")
def _mixup(item, x, y, g, n_classes):
    """mixup (Zhang et al. 2018): x = l x_i + (1 - l) x_j and the same mix of one-hot labels.

    l ~ Beta(alpha, alpha) is drawn per sample (the paper draws one per batch); j is a
    shuffled copy of the batch. Returns soft labels (N, C).
    """
    n = len(x)
    m = _chosen(g, n, item.p, x.device)
    lam = torch.where(m, _beta(g, item.alpha, n, x.device), torch.ones(n, device=x.device))
    perm = torch.randperm(n, generator=g).to(x.device)
    soft = _soft(y, n_classes)
    lx = _per_sample(lam, x).to(x.dtype)
    return lx * x + (1 - lx) * x[perm], lam[:, None] * soft + (1 - lam[:, None]) * soft[perm]


@register("cutmix")
def _cutmix(item, x, y, g, n_classes):
    """CutMix (Yun et al. 2019): paste a box from a shuffled copy; labels mix by its area.

    The box has area about (1 - l) H W with l ~ Beta(alpha, alpha), a uniform centre and
    is clipped to the image; the label weight is the area actually pasted.
    """
    n, (h, w) = len(x), x.shape[-2:]
    m = _chosen(g, n, item.p, x.device)
    cut = torch.sqrt(1 - _beta(g, item.alpha, n, x.device)) * m
    ch, cw = torch.floor(cut * h).long(), torch.floor(cut * w).long()
    cy = torch.floor(_rand(g, n, x.device) * h).long()
    cx = torch.floor(_rand(g, n, x.device) * w).long()
    top, bottom = (cy - ch // 2).clamp(0, h), (cy + ch - ch // 2).clamp(0, h)
    left, right = (cx - cw // 2).clamp(0, w), (cx + cw - cw // 2).clamp(0, w)
    perm = torch.randperm(n, generator=g).to(x.device)
    box = box_mask((h, w), top, left, bottom, right)
    pasted = ((bottom - top) * (right - left)).float() / (h * w)
    soft = _soft(y, n_classes)
    return torch.where(box, x[perm], x), (1 - pasted)[:, None] * soft + pasted[:, None] * soft[perm]


# ---------------------------------------------------------------- building


def build_augmenter(items, bundle) -> Augmenter | None:
    """One function applying ``items`` (the spec's augment list) in order, or None if empty.

    Raises :class:`SpecError` when an item cannot apply to this data (image ops on
    vectors, label mixing on regression targets).
    """
    if not items:
        return None
    image = len(bundle.input_shape) == 3
    errors = []
    for i, item in enumerate(items):
        if item.type in IMAGE_AUGMENTS and not image:
            errors.append({"path": f"/augment/{i}/type", "message": f"{item.type} needs images of shape "
                           f"(C, H, W); the inputs have shape {list(bundle.input_shape)}"})
        elif item.type in ("mixup", "cutmix") and bundle.task != "classification":
            errors.append({"path": f"/augment/{i}/type", "message": f"{item.type} needs a classification task"})
        elif item.type not in AUGMENTS:
            errors.append({"path": f"/augment/{i}/type", "message": f"unknown augmentation {item.type!r}"})
    if errors:
        raise SpecError(errors)
    ops = [(AUGMENTS[item.type], item) for item in items]
    n_classes = bundle.n_classes

    def augment(x: torch.Tensor, y: torch.Tensor, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        with torch.no_grad():
            for op, item in ops:
                x, y = op(item, x, y, generator, n_classes)
        return x, y

    return augment
