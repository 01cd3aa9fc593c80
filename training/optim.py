"""Optimizers, learning-rate schedules and regularizers, keyed by the spec's names.

Each optimizer owns its defaults (``DEFAULTS``); the spec only overrides what it sets,
and setting a hyperparameter the optimizer does not have is an error (:func:`check`).
Schedules are pure functions of the global step so that the lr of every step can be
reported and tested against its formula.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from training.vocab import DATASETS_REGRESSION

# torch class and the defaults of the hyperparameters each optimizer has (and only those)
OPTIMIZERS = {
    "sgd": ("SGD", {"momentum": 0.0, "nesterov": False, "weight_decay": 0.0}),
    "momentum": ("SGD", {"momentum": 0.9, "nesterov": False, "weight_decay": 0.0}),
    "nesterov": ("SGD", {"momentum": 0.9, "nesterov": True, "weight_decay": 0.0}),
    "adagrad": ("Adagrad", {"eps": 1e-10, "weight_decay": 0.0}),
    "adadelta": ("Adadelta", {"rho": 0.9, "eps": 1e-6, "weight_decay": 0.0}),
    "rmsprop": ("RMSprop", {"alpha": 0.99, "eps": 1e-8, "momentum": 0.0, "weight_decay": 0.0}),
    "adam": ("Adam", {"betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.0}),
    # AdamW's decay is decoupled (Loshchilov & Hutter 2019) and on by default, as in PyTorch
    "adamw": ("AdamW", {"betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.01}),
    "nadam": ("NAdam", {"betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.0}),
    "radam": ("RAdam", {"betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.0}),
    # layer-wise trust ratio on Adam's step (You et al. 2019); decay decoupled, in the direction
    "lamb": ("Lamb", {"betas": (0.9, 0.999), "eps": 1e-6, "weight_decay": 0.0}),
}
DEFAULTS = {name: cfg for name, (_, cfg) in OPTIMIZERS.items()}
HYPERPARAMETERS = ("momentum", "nesterov", "betas", "eps", "rho", "alpha", "weight_decay")

# the schedule fields each schedule reads, and its own default decay factor
SCHEDULE_FIELDS = {
    "constant": (), "step": ("step_size", "gamma", "min_lr"), "multistep": ("milestones", "gamma", "min_lr"),
    "exponential": ("gamma", "min_lr"), "cosine": ("min_lr",), "cyclic": ("step_size", "max_lr"),
    "onecycle": ("max_lr", "min_lr"), "plateau": ("patience", "gamma", "min_lr"),
}
GAMMA = {"step": 0.1, "multistep": 0.1, "exponential": 0.95, "plateau": 0.1}
ONECYCLE_PCT = 0.3  # share of the steps spent rising to max_lr (PyTorch's pct_start)


def optimizer_config(o) -> tuple[str, dict]:
    """(torch.optim class name, keyword arguments) for an :class:`OptimizerSpec`."""
    cls, defaults = OPTIMIZERS[o.name]
    cfg = dict(defaults)
    for key in cfg:
        value = getattr(o, key)
        if value is not None:
            cfg[key] = tuple(value) if key == "betas" else value
    return cls, {"lr": o.lr, **cfg}


# torch's fused kernels: one kernel for all parameters instead of a Python loop over them
# (measured 1.4x the steps/s of the default on the playground's small nets, CPU)
FUSED = {"SGD": ("cpu", "cuda"), "Adam": ("cpu", "cuda"), "AdamW": ("cpu", "cuda"), "Adagrad": ("cpu",)}


def fused_ok(cls: str, device_type: str) -> bool:
    return device_type in FUSED.get(cls, ())


def build_optimizer(model: nn.Module, o) -> torch.optim.Optimizer:
    cls, cfg = optimizer_config(o)
    params = [p for p in model.parameters() if p.requires_grad]
    device_type = params[0].device.type if params else "cpu"
    if fused_ok(cls, device_type):
        cfg["fused"] = True
    if cls == "Lamb":  # not in torch.optim: our own (training/lamb.py)
        from training.lamb import Lamb

        return Lamb(params, **cfg)
    return getattr(torch.optim, cls)(params, **cfg)


def check(spec) -> list[dict[str, str]]:
    """Combinations of optimizer, schedule and regularization that cannot mean anything."""
    errors: list[dict[str, str]] = []

    def add(path: str, msg: str) -> None:
        errors.append({"path": path, "message": msg})

    o = spec.optimizer
    own = DEFAULTS[o.name]
    for key in HYPERPARAMETERS:
        if getattr(o, key) is not None and key not in own:
            add(f"/optimizer/{key}", f"{o.name} has no {key} (it has {', '.join(own) or 'only lr'})")
    if o.name == "sgd" and o.nesterov and not o.momentum:
        add("/optimizer/nesterov", "Nesterov momentum needs momentum > 0")
    if o.name == "nesterov" and o.nesterov is False:
        add("/optimizer/nesterov", "the nesterov optimizer always uses Nesterov momentum; choose 'momentum'")
    if o.name == "momentum" and o.nesterov:
        add("/optimizer/nesterov", "choose the 'nesterov' optimizer for Nesterov momentum")
    if o.name in ("momentum", "nesterov") and o.momentum == 0:
        add("/optimizer/momentum", f"{o.name} needs momentum > 0 (momentum 0 is plain sgd)")

    s = spec.schedule
    used = SCHEDULE_FIELDS[s.name]
    if s.gamma is not None and "gamma" not in used:
        add("/schedule/gamma", f"the {s.name} schedule does not use gamma")
    if s.max_lr is not None and "max_lr" not in used:
        add("/schedule/max_lr", f"the {s.name} schedule does not use max_lr")
    if s.milestones and "milestones" not in used:
        add("/schedule/milestones", f"the {s.name} schedule does not use milestones")
    if s.min_lr and "min_lr" not in used:
        add("/schedule/min_lr", f"the {s.name} schedule does not use min_lr")
    if s.name in ("cyclic", "onecycle") and s.max_lr is not None and s.max_lr <= o.lr:
        add("/schedule/max_lr", f"max_lr must exceed the optimizer's lr ({o.lr:g})")
    if s.name in ("cosine", "onecycle") and s.min_lr >= o.lr:
        add("/schedule/min_lr", f"min_lr must be below the optimizer's lr ({o.lr:g})")
    if s.warmup_epochs >= spec.training.epochs:
        add("/schedule/warmup_epochs", "the warm-up must end before the last epoch")
    if s.name == "multistep" and s.milestones and s.milestones[0] < 1:
        add("/schedule/milestones", "milestones are epochs, counted from 1")

    r = spec.regularization
    es = r.early_stopping
    if es is not None and es.metric == "val_acc" and spec.data.dataset in DATASETS_REGRESSION:
        add("/regularization/early_stopping/metric", "val_acc needs a classification dataset; use val_loss")
    if r.weight_decay and o.name == "adamw":
        add("/regularization/weight_decay", "adamw already decays decoupled: set optimizer.weight_decay instead")
    return errors


# ---------------------------------------------------------------- schedules


class LRSchedule:
    """lr as a function of the global step: a linear warm-up, then the named schedule.

    Epoch-counted fields become steps through ``steps_per_epoch``. ``step``,
    ``multistep`` and ``exponential`` count epochs from the start of training (a
    milestone at epoch 30 decays at epoch 30); ``cosine``, ``cyclic`` and ``onecycle``
    run over the steps after the warm-up. The warm-up rises linearly from lr/W to the
    lr the schedule has when the warm-up ends (W = warm-up steps). ``min_lr`` is the
    floor of step/multistep/exponential/plateau and the end point of cosine/onecycle;
    cyclic runs between the optimizer's lr and ``max_lr`` (default 10 × lr).
    """

    def __init__(self, s, base_lr: float, steps_per_epoch: int, epochs: int):
        self.s, self.base, self.spe, self.epochs = s, base_lr, max(1, steps_per_epoch), epochs
        self.total = self.spe * epochs
        self.warmup = min(round(s.warmup_epochs * self.spe), max(0, self.total - 1))
        self.gamma = s.gamma if s.gamma is not None else GAMMA.get(s.name, 0.1)
        self.max_lr = s.max_lr if s.max_lr is not None else 10 * base_lr
        self.scale = 1.0  # plateau reductions
        self.best: float | None = None
        self.bad_epochs = 0

    def lr_at(self, step: int) -> float:
        if step < self.warmup:
            return self._after_warmup(self.warmup) * (step + 1) / self.warmup
        return self._after_warmup(step)

    def _after_warmup(self, step: int) -> float:
        s, base = self.s, self.base
        name = s.name
        epoch = step / self.spe  # fractional epochs since the start
        t = step - self.warmup
        span = max(1, self.total - self.warmup)
        if name == "constant":
            return base
        if name == "step":
            return max(s.min_lr, base * self.gamma ** (step // (s.step_size * self.spe)))
        if name == "multistep":
            passed = sum(step >= m * self.spe for m in s.milestones)
            return max(s.min_lr, base * self.gamma ** passed)
        if name == "exponential":
            # continuous per step; equals PyTorch's ExponentialLR, lr * gamma^epoch, at every epoch start
            return max(s.min_lr, base * self.gamma ** epoch)
        if name == "cosine":
            return s.min_lr + (base - s.min_lr) * 0.5 * (1 + math.cos(math.pi * min(t, span) / span))
        if name == "cyclic":
            # triangular (Smith 2017): base -> max_lr -> base, each half step_size epochs
            x = t / (s.step_size * self.spe)
            return base + (self.max_lr - base) * max(0.0, 1 - abs(x % 2 - 1))
        if name == "onecycle":
            # Smith & Topin 2019 with cosine annealing, as torch's OneCycleLR (lr only, no momentum cycling)
            up = ONECYCLE_PCT * span - 1
            if t <= up:
                return _cos_anneal(base, self.max_lr, t / up if up > 0 else 1.0)
            return _cos_anneal(self.max_lr, s.min_lr, min(1.0, (t - up) / max(span - 1 - up, 1e-12)))
        if name == "plateau":
            return max(s.min_lr, base * self.scale)
        raise ValueError(f"unknown schedule {name!r}")

    def epoch_end(self, epoch: int, val_loss: float | None) -> None:
        """Plateau: multiply the lr by gamma once more than ``patience`` epochs passed without
        a new best val loss (PyTorch's ReduceLROnPlateau, threshold 0, no cooldown)."""
        if self.s.name != "plateau" or val_loss is None or not math.isfinite(val_loss):
            return
        if self.best is None or val_loss < self.best:
            self.best, self.bad_epochs = val_loss, 0
            return
        self.bad_epochs += 1
        if self.bad_epochs > self.s.patience:
            self.scale *= self.gamma
            self.bad_epochs = 0


def _cos_anneal(start: float, end: float, pct: float) -> float:
    return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)


# ---------------------------------------------------------------- regularizers


def decayed_weights(model: nn.Module) -> list[torch.Tensor]:
    """Weights of every Linear and Conv2d: the target of penalties, decay and max-norm.

    Biases and normalization parameters are left alone, as is customary: decaying them
    only adds underfitting. Frozen weights (``requires_grad`` off) are left alone too.
    """
    return [m.weight for m in model.modules() if isinstance(m, (nn.Linear, nn.Conv2d)) and m.weight.requires_grad]


class Regularizer:
    """L1/L2 penalties (in the loss), gradient clipping, decoupled weight decay, max-norm."""

    def __init__(self, r, model: nn.Module):
        self.r, self.model = r, model
        self.weights = decayed_weights(model)
        self.params = [p for p in model.parameters() if p.requires_grad]

    def penalty(self) -> tuple[torch.Tensor | None, dict]:
        """``l1·Σ|w| + l2·Σw²`` over the weights, and its parts as floats."""
        parts: dict[str, torch.Tensor] = {}
        if self.r.l1:
            parts["l1"] = self.r.l1 * sum(w.abs().sum() for w in self.weights)
        if self.r.l2:
            parts["l2"] = self.r.l2 * sum(w.pow(2).sum() for w in self.weights)
        if not parts:
            return None, {}
        values = torch.stack([v.detach() for v in parts.values()]).tolist()  # one device sync
        return sum(parts.values()), dict(zip(parts, values))

    def before_step(self) -> None:
        if self.r.grad_clip_value:
            nn.utils.clip_grad_value_(self.params, self.r.grad_clip_value)
        if self.r.grad_clip_norm:
            nn.utils.clip_grad_norm_(self.params, self.r.grad_clip_norm)

    @torch.no_grad()
    def after_step(self, lr: float) -> None:
        if self.r.weight_decay:
            # decoupled from the gradient (Loshchilov & Hutter 2019): w <- w - lr * wd * w
            torch._foreach_mul_(self.weights, 1 - lr * self.r.weight_decay)
        if self.r.max_norm:
            # every output unit's incoming weights (a row, a filter) to norm <= max_norm
            # (Srivastava et al. 2014, section 5.1)
            for w in self.weights:
                norms = w.flatten(1).norm(dim=1).clamp(min=self.r.max_norm)
                w.mul_((self.r.max_norm / norms).view(-1, *[1] * (w.dim() - 1)))


class EarlyStopper:
    """Stops ``patience`` epochs after the best one; remembers (and restores) the best weights.

    An epoch improves when the metric beats the best so far by more than ``min_delta``
    (lower loss, higher accuracy).
    """

    def __init__(self, es):
        self.es = es
        self.best: float | None = None
        self.best_epoch: int | None = None
        self.best_state: dict | None = None
        self.stopped = False

    def update(self, epoch: int, values: dict, model: nn.Module) -> bool:
        if self.es is None or self.stopped:
            return self.stopped
        value = values.get(self.es.metric)
        if value is None or not math.isfinite(value):
            return False
        score = -value if self.es.metric.endswith("acc") else value  # lower is better
        if self.best is None or score < self.best - self.es.min_delta:
            self.best, self.best_epoch = score, epoch
            if self.es.restore_best:
                self.best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        elif epoch - self.best_epoch >= self.es.patience:
            self.stopped = True
        return self.stopped

    def restore(self, model: nn.Module) -> None:
        """Load the best epoch's weights (only after an early stop, as Keras does)."""
        if self.stopped and self.best_state is not None:
            model.load_state_dict(self.best_state)
