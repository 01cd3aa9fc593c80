"""PCA of the training path (Li et al. 2018, §7) and the grid that covers it."""

from __future__ import annotations

import math

import torch


def _fix_sign(proj: torch.Tensor) -> float:
    """+1 or -1 so that the path starts on the positive side of the axis.

    The sign of an eigenvector is arbitrary; without a rule the plot can mirror from one
    run to the next. The first checkpoint (the initial weights) decides; when it sits on
    the axis (within 1e-3 of the path's extent) the point farthest from 0 decides.
    """
    ref = proj[0]
    if proj.abs().max() > 0 and ref.abs() <= 1e-3 * proj.abs().max():
        ref = proj[proj.abs().argmax()]
    return -1.0 if ref < 0 else 1.0


def pca_directions(checkpoints, final: torch.Tensor, mask: torch.Tensor | None = None):
    """Two principal directions of ``w_t - w_final`` and the path projected onto them.

    Like the reference (scikit-learn's PCA) the differences are centred before the
    decomposition, and the path is projected without centring, so the final point is the
    origin. ``checkpoints`` is a list of flat vectors (or a T×P tensor). The T×T Gram
    matrix of the centred differences is decomposed instead of the T×P matrix (same
    components, far cheaper when P is large), in float64: formed in float32 a component
    explaining 1e-4 of the variance drowns in round-off. Each component's sign is fixed
    (:func:`_fix_sign`). Returns ``(d1, d2, explained variance ratios, xs, ys)``, or None
    when the path spans fewer than two dimensions.
    """
    diffs = torch.stack([c - final for c in checkpoints])  # the only T×P copy, in float32
    if mask is not None:
        diffs.mul_(mask)
    t, p = diffs.shape
    width = max(1024, 2**24 // (8 * t))  # float64 columns at a time: ~16 MiB
    mean = torch.cat([diffs[:, i:i + width].double().mean(0) for i in range(0, p, width)])

    def centred(i: int) -> torch.Tensor:
        return diffs[:, i:i + width].double() - mean[i:i + width]

    gram = torch.zeros(t, t, dtype=torch.float64, device=diffs.device)
    for i in range(0, p, width):
        c = centred(i)
        gram += c @ c.T
    evals, evecs = torch.linalg.eigh(gram)
    evals, evecs = evals.flip(0).clamp(min=0), evecs.flip(1)
    total = evals.sum()
    # float32 checkpoints carry ~1e-7 relative noise: a second variance below 1e-10 is round-off
    if t < 3 or total <= 0 or evals[1] <= 1e-10 * total:
        return None
    u = evecs[:, :2].T
    comps = torch.cat([u @ centred(i) for i in range(0, p, width)], 1)  # each scaled by its singular value
    d1 = comps[0] / comps[0].norm()
    d2 = comps[1] - (comps[1] @ d1) * d1  # re-orthogonalize against round-off
    d2 = d2 / d2.norm()
    xs = torch.cat([diffs[:, i:i + width].double() @ d1[i:i + width].unsqueeze(1) for i in range(0, p, width)], 1).sum(1)
    ys = torch.cat([diffs[:, i:i + width].double() @ d2[i:i + width].unsqueeze(1) for i in range(0, p, width)], 1).sum(1)
    s1, s2 = _fix_sign(xs), _fix_sign(ys)
    d1, d2, xs, ys = d1 * s1, d2 * s2, xs * s1, ys * s2
    ratios = (evals[:2] / total).tolist()
    return d1.to(diffs.dtype), d2.to(diffs.dtype), ratios, xs.tolist(), ys.tolist()


def path_axis(values: list[float], resolution: int, pad: float = 0.15) -> torch.Tensor:
    """Grid coordinates covering ``values`` and 0, with 0 exactly on the grid."""
    lo, hi = min(min(values), 0.0), max(max(values), 0.0)
    margin = (hi - lo) * pad or 1.0
    lo, hi = lo - margin, hi + margin
    h = (hi - lo) / max(1, resolution - 2)
    first = math.floor(lo / h)
    return h * (torch.arange(resolution, dtype=torch.float64) + first)
