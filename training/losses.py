"""Losses and metrics, keyed by the spec's names.

Classification targets arrive as class ids (N,) or, after mixup/cutmix, as soft label
distributions (N, C); every classification loss accepts both. Regression targets are
(N, 1) floats.
"""

from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F


def _soft(target: torch.Tensor, n_classes: int, smoothing: float) -> torch.Tensor:
    soft = F.one_hot(target, n_classes).float() if target.dtype == torch.int64 else target
    if smoothing:
        soft = soft * (1 - smoothing) + smoothing / n_classes
    return soft


def build_loss(name: str | None, task: str, n_classes: int, label_smoothing: float = 0.0
               ) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    name = name or ("cross_entropy" if task == "classification" else "mse")
    if task == "classification":
        if name == "cross_entropy":
            def ce(logits, target):
                if target.dtype == torch.int64:
                    return F.cross_entropy(logits, target, label_smoothing=label_smoothing)
                return -(_soft(target, n_classes, label_smoothing) * F.log_softmax(logits, 1)).sum(1).mean()
            return ce
        if name == "bce":
            # one sigmoid per class against the one-hot target
            return lambda logits, target: F.binary_cross_entropy_with_logits(
                logits, _soft(target, n_classes, label_smoothing))
        # regression losses on class probabilities against one-hot targets (a lecture classic)
        reg = {"mse": F.mse_loss, "mae": F.l1_loss, "huber": F.huber_loss}[name]
        return lambda logits, target: reg(F.softmax(logits, 1), _soft(target, n_classes, label_smoothing))
    reg = {"mse": F.mse_loss, "mae": F.l1_loss, "huber": F.huber_loss}.get(name)
    if reg is None:
        raise ValueError(f"loss {name!r} needs a classification task")
    return reg


@torch.no_grad()
def metrics(logits: torch.Tensor, target: torch.Tensor, task: str) -> dict:
    """Accuracy for classification; R² and RMSE for regression."""
    if task == "classification":
        return {"acc": (logits.argmax(1) == target).float().mean().item()}
    err = ((logits - target) ** 2).mean().item()
    var = target.var(unbiased=False).item()
    return {"rmse": err ** 0.5, "r2": 1 - err / var if var > 0 else 0.0}
