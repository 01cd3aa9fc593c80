"""Numbers for landscape events: JSON-safe (no NaN or inf) and rounded (surfaces are large)."""

from __future__ import annotations

import torch

from training.numbers import finite_or_none


def finite6(v) -> float | None:
    """Finite values rounded to 6 significant digits, else None."""
    v = finite_or_none(v)
    return None if v is None else float(f"{v:.6g}")


def json_losses(t: torch.Tensor) -> list:
    """Losses as JSON-safe lists (6 significant digits; NaN and inf become null)."""
    values = t.tolist()
    if t.dim() == 1:
        return [finite6(v) for v in values]
    return [[finite6(v) for v in row] for row in values]


def coords(values) -> list:
    values = values.tolist() if isinstance(values, torch.Tensor) else values
    return [finite6(v) for v in values]


def log_scale_hint(t: torch.Tensor) -> bool:
    """Suggest a log colour scale when the finite losses span more than two decades."""
    f = t[torch.isfinite(t)]
    return bool(len(f) and f.min() > 0 and f.max() / f.min() > 100)
