"""Losses and metrics, keyed by the spec's names.

Classification targets arrive as class ids (N,) or, after mixup/cutmix, as soft label
distributions (N, C); every classification loss accepts both. Regression targets are
(N, 1) floats. On a classification task the regression losses (mse, mae, huber) compare
the softmax probabilities with the one-hot targets, a lecture classic.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

from training.vocab import DATASETS_REGRESSION

REGRESSION = {"mse": F.mse_loss, "mae": F.l1_loss, "huber": F.huber_loss}  # huber: delta 1


def soft_targets(target: torch.Tensor, n_classes: int, smoothing: float = 0.0) -> torch.Tensor:
    """One-hot (or already soft) targets, smoothed towards uniform: (1 - s)·y + s/C."""
    soft = F.one_hot(target, n_classes).float() if target.dtype == torch.int64 else target
    if smoothing:
        soft = soft * (1 - smoothing) + smoothing / n_classes
    return soft


def build_loss(name: str | None, task: str, n_classes: int, label_smoothing: float = 0.0
               ) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    name = name or ("cross_entropy" if task == "classification" else "mse")
    s = label_smoothing
    if task == "classification":
        if name == "cross_entropy":
            def ce(logits, target):
                if target.dtype == torch.int64:
                    return F.cross_entropy(logits, target, label_smoothing=s)
                return -(soft_targets(target, n_classes, s) * F.log_softmax(logits, 1)).sum(1).mean()
            return ce
        if name == "bce":
            # one sigmoid per class against the one-hot target; each is a binary problem,
            # so smoothing pulls every target towards 1/2: (1 - s)·y + s/2
            return lambda logits, target: F.binary_cross_entropy_with_logits(
                logits, soft_targets(target, n_classes) * (1 - s) + s / 2)
        reg = REGRESSION[name]
        return lambda logits, target: reg(F.softmax(logits, 1), soft_targets(target, n_classes, s))
    reg = REGRESSION.get(name)
    if reg is None:
        raise ValueError(f"loss {name!r} needs a classification task")
    return reg


def check(spec) -> list[dict[str, str]]:
    """Combinations the loss cannot honour (the dataset/loss pairing lives in training.spec)."""
    if spec.regularization.label_smoothing and spec.data.dataset in DATASETS_REGRESSION:
        return [{"path": "/regularization/label_smoothing",
                 "message": f"label smoothing needs a classification dataset; {spec.data.dataset} is regression"}]
    return []


@torch.no_grad()
def metrics(logits: torch.Tensor, target: torch.Tensor, task: str) -> dict:
    """Accuracy for classification; R² and RMSE for regression."""
    if task == "classification":
        labels = target if target.dtype == torch.int64 else target.argmax(1)
        return {"acc": (logits.argmax(1) == labels).float().mean().item()}
    err = ((logits - target) ** 2).mean().item()
    var = target.var(unbiased=False).item()
    return {"rmse": err ** 0.5, "r2": 1 - err / var if var > 0 else 0.0}
