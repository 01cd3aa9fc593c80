"""Optimizers, learning-rate schedules and regularizers, keyed by the spec's names.

Each optimizer owns its defaults (``DEFAULTS``); the spec only overrides what it sets.
Schedules are pure functions of the step so that the lr of every step can be reported
and tested against its formula.
"""

from __future__ import annotations

import math

import torch
from torch import nn

DEFAULTS = {
    "sgd": {"momentum": 0.0, "nesterov": False},
    "momentum": {"momentum": 0.9, "nesterov": False},
    "nesterov": {"momentum": 0.9, "nesterov": True},
    "adam": {"betas": (0.9, 0.999), "eps": 1e-8},
}


def build_optimizer(model: nn.Module, o) -> torch.optim.Optimizer:
    cfg = dict(DEFAULTS.get(o.name, {}))
    for key in ("momentum", "nesterov", "betas", "eps", "rho", "alpha"):
        value = getattr(o, key)
        if value is not None and key in cfg:
            cfg[key] = tuple(value) if key == "betas" else value
    params = [p for p in model.parameters() if p.requires_grad]
    if o.name in ("sgd", "momentum", "nesterov"):
        return torch.optim.SGD(params, lr=o.lr, weight_decay=o.weight_decay, **cfg)
    if o.name == "adam":
        return torch.optim.Adam(params, lr=o.lr, weight_decay=o.weight_decay, **cfg)
    raise ValueError(f"optimizer {o.name!r} is not available yet")


class LRSchedule:
    """lr as a function of the global step (warm-up, then the named schedule)."""

    def __init__(self, s, base_lr: float, steps_per_epoch: int, epochs: int):
        self.s, self.base, self.spe, self.epochs = s, base_lr, max(1, steps_per_epoch), epochs
        self.total = self.spe * epochs
        self.warmup = int(round(s.warmup_epochs * self.spe))
        self.scale = 1.0  # plateau reductions

    def lr_at(self, step: int) -> float:
        if step < self.warmup:
            return self.base * (step + 1) / self.warmup
        t = step - self.warmup
        span = max(1, self.total - self.warmup)
        if self.s.name == "cosine":
            return self.s.min_lr + (self.base - self.s.min_lr) * 0.5 * (1 + math.cos(math.pi * min(t, span) / span))
        return self.base * self.scale

    def epoch_end(self, epoch: int, val_loss: float | None) -> None:
        pass


class Regularizer:
    def __init__(self, r, model: nn.Module):
        self.r, self.model = r, model

    def penalty(self) -> tuple[torch.Tensor | None, dict]:
        return None, {}

    def before_step(self) -> None:
        if self.r.grad_clip_norm:
            nn.utils.clip_grad_norm_(self.model.parameters(), self.r.grad_clip_norm)

    def after_step(self, lr: float) -> None:
        pass


class EarlyStopper:
    """Stops after ``patience`` epochs without improvement; remembers the best weights."""

    def __init__(self, es):
        self.es = es
        self.best: float | None = None
        self.best_epoch: int | None = None
        self.best_state: dict | None = None
        self.stopped = False

    def update(self, epoch: int, values: dict, model: nn.Module) -> bool:
        if self.es is None:
            return False
        value = values.get(self.es.metric)
        if value is None:
            return False
        sign = -1.0 if self.es.metric.endswith("acc") else 1.0  # lower is better after the sign
        score = sign * value
        if self.best is None or score < self.best - self.es.min_delta:
            self.best, self.best_epoch = score, epoch
            if self.es.restore_best:
                self.best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        elif epoch - self.best_epoch >= self.es.patience:
            self.stopped = True
        return self.stopped

    def restore(self, model: nn.Module) -> None:
        if self.stopped and self.best_state is not None:
            model.load_state_dict(self.best_state)
