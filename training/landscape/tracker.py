"""The trainer's side of the landscape: checkpoints during training, surfaces at the end.

The trainer hands the tracker a :class:`LandscapeHook` (the model, its loss, the training
data, ``emit`` and ``should_stop``), never itself. It calls ``on_step`` after every step,
``on_epoch`` at the end of every epoch and ``finish`` once after a successful run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from training.landscape.directions import (
    Params,
    centered_axis,
    flatten,
    float_buffers_of,
    ignore_mask,
    interpolation_axis,
    params_of,
    random_directions,
    unflatten,
)
from training.landscape.payload import coords, finite6, json_losses, log_scale_hint
from training.landscape.pca import path_axis, pca_directions
from training.landscape.sharpness import sharpness
from training.landscape.surface import LossFn, LossSurface, act_bytes_per_sample, default_budget, surface_2d

MAX_CHECKPOINTS = 200


@dataclass
class LandscapeHook:
    """What the tracker may use of a run.

    ``should_stop`` is checked between chunks of every long computation (the trainer makes
    it true on a stop request or past its time limit); ``memory_budget`` bounds the bytes
    of one chunk of grid points (None: :func:`default_budget` of the device).
    """

    net: nn.Module
    loss_fn: LossFn
    x: torch.Tensor
    y: torch.Tensor
    emit: Callable[..., None]  # emit(event_type, **payload)
    should_stop: Callable[[], bool]
    device: torch.device | None = None
    memory_budget: int | None = None

    def budget(self) -> int:
        return self.memory_budget or default_budget(self.device or self.x.device)


class Tracker:
    """Keeps checkpoints during training and computes the surfaces the spec asks for.

    Checkpoints are flat parameter vectors (and the batch-norm statistics beside them) on
    the parameters' device; when more than fit in the budget (at most 200) every other
    one is dropped and the saving stride doubles, so they stay evenly spread.
    """

    def __init__(self, hook: LandscapeHook, spec, checkpoint_budget: int = 128 * 2**20):
        self.hook, self.spec = hook, spec
        n_params = sum(p.numel() for p in hook.net.parameters())
        self.max_checkpoints = int(max(3, min(MAX_CHECKPOINTS, checkpoint_budget // max(1, 4 * n_params))))
        self.checkpoints: list[torch.Tensor] = []
        self.buffers: list[torch.Tensor] = []
        self.steps: list[int] = []
        self.epoch_steps: dict[int, int] = {0: 0}
        self.stride, self.seen, self.epoch = 1, 0, 0
        self.w0 = flatten(params_of(hook.net))
        self.b0 = flatten(float_buffers_of(hook.net)).clone()
        self._done_for: torch.Tensor | None = None  # weights of the last surfaces drawn
        self._eval: tuple[torch.Tensor, torch.Tensor] | None = None
        self._save(0)

    # -- checkpoints ---------------------------------------------------------

    def _save(self, step: int) -> None:
        if self.seen % self.stride == 0:
            self.checkpoints.append(flatten(params_of(self.hook.net)))  # torch.cat copies
            self.buffers.append(flatten(float_buffers_of(self.hook.net)).clone())
            self.steps.append(step)
            if len(self.checkpoints) > self.max_checkpoints:
                self.checkpoints, self.buffers, self.steps = self.checkpoints[::2], self.buffers[::2], self.steps[::2]
                self.stride *= 2
        self.seen += 1

    def on_step(self, step: int) -> None:
        every = self.spec.checkpoint_every_steps
        if every and step % every == 0:
            self._save(step)

    def on_epoch(self, epoch: int, step: int) -> None:
        self.epoch = epoch
        self.epoch_steps[epoch] = step
        if not self.spec.checkpoint_every_steps:
            self._save(step)
        if self.spec.when == "every" and epoch % self.spec.every_epochs == 0:
            self.compute(step)

    def finish(self, step: int, restored_epoch: int | None = None) -> dict | None:
        """Final surfaces and sharpness; ``restored_epoch``: early stopping put that epoch's weights back."""
        final = flatten(params_of(self.hook.net))
        drawn = self._done_for is not None and torch.equal(self._done_for, final)
        if restored_epoch is not None:
            step = self.epoch_steps.get(restored_epoch, step)
        if not drawn and not self.compute(step, final=True, restored=restored_epoch is not None):
            return None
        if not self.spec.sharpness or self.hook.should_stop():
            return None
        x, y = self._subset()
        # double backward keeps the graph: a few times the activations per sample
        batch = max(16, self.hook.budget() // (6 * act_bytes_per_sample(self.hook.net, x[:1])))
        out = sharpness(self.hook.net, self.hook.loss_fn, x, y, seed=self.spec.seed, batch=batch,
                        should_stop=self.hook.should_stop)
        return None if out.pop("stopped") else {"sharpness": out}

    # -- surfaces ------------------------------------------------------------

    def _subset(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The first ``eval_samples`` training samples after a seeded permutation, fixed for the run."""
        if self._eval is None:
            x, y = self.hook.x, self.hook.y
            gen = torch.Generator().manual_seed(self.spec.seed)
            idx = torch.randperm(len(x), generator=gen)[:self.spec.eval_samples].to(x.device)
            self._eval = x[idx], y[idx]
        return self._eval

    def _path(self, flat: torch.Tensor, step: int, restored: bool):
        """Checkpoints (parameters, buffers, steps) ending at the current weights.

        After early stopping restored an earlier epoch's weights the path ends there, at
        that epoch's step: the later checkpoints belong to weights the run gave back.
        """
        keep = [i for i, s in enumerate(self.steps) if s <= step] if restored else list(range(len(self.steps)))
        ckpts = [self.checkpoints[i] for i in keep]
        bufs = [self.buffers[i] for i in keep]
        steps = [self.steps[i] for i in keep]
        if not ckpts or not torch.equal(ckpts[-1], flat):
            ckpts.append(flat)
            bufs.append(flatten(float_buffers_of(self.hook.net)).clone())
            steps.append(step)
        return ckpts, bufs, steps

    def compute(self, step: int, final: bool = False, restored: bool = False) -> bool:
        """Draw every surface the spec asks for and emit them; False when stopped midway."""
        s, net, hook = self.spec, self.hook.net, self.hook
        x, y = self._subset()
        ev = LossSurface(net, x, y, hook.loss_fn, budget_bytes=hook.budget())
        center = {k: v.clone() for k, v in params_of(net).items()}
        flat = flatten(center)
        stop = hook.should_stop
        common = {"epoch": self.epoch, "step": step, "final": final, "seed": s.seed,
                  "eval_samples": len(x), "center_loss": finite6(ev.loss_at(center))}
        res, res_y = s.resolution, s.resolution_y or s.resolution
        line = centered_axis(s.span, res)
        if s.mode == "1d":
            (d1,) = random_directions(center, s.seed, 1)
            loss = ev.evaluate(center, [d1], line.unsqueeze(1), stop)
            if loss is None:
                return False
            hook.emit("landscape", surface="random1d", mode="1d", alphas=coords(line), loss=json_losses(loss),
                      span=s.span, done=True, partial=False, log_scale_hint=log_scale_hint(loss), **common)
        else:
            dirs = random_directions(center, s.seed, 2)
            if not self._grid(ev, "random", center, dirs, line, centered_axis(s.span, res_y), common, span=s.span):
                return False
            if s.trajectory and not self._pca(ev, center, flat, step, restored, common):
                return False
        if s.interpolation and not self._interpolation(ev, center, flat, common):
            return False
        self._done_for = flat
        return True

    def _pca(self, ev: LossSurface, center: Params, flat: torch.Tensor, step: int, restored: bool, common: dict) -> bool:
        ckpts, bufs, steps = self._path(flat, step, restored)
        pca = pca_directions(ckpts, flat, ignore_mask(center))
        if pca is None:
            return True
        d1, d2, ratios, xs, ys = pca
        like_b = float_buffers_of(self.hook.net)
        losses = []
        for p, b in zip(ckpts, bufs):  # each checkpoint's own loss, with its own batch-norm statistics
            if self.hook.should_stop():
                return False
            losses.append(finite6(ev.loss_at(unflatten(p, center), unflatten(b, like_b))))
        extra = {"trajectory": {"x": coords(xs), "y": coords(ys), "steps": steps, "loss": losses},
                 "explained_variance": [finite6(r) for r in ratios]}
        res, res_y = self.spec.resolution, self.spec.resolution_y or self.spec.resolution
        pdirs = [unflatten(d1, center), unflatten(d2, center)]
        return self._grid(ev, "pca", center, pdirs, path_axis(xs, res), path_axis(ys, res_y), common, **extra)

    def _interpolation(self, ev: LossSurface, center: Params, flat: torch.Tensor, common: dict) -> bool:
        """w(α) = w0 + α·(w1 - w0), the batch-norm statistics moving along with the weights
        (the reference's ``states`` mode): at α = 0 the untrained model, at α = 1 the trained one."""
        alphas = interpolation_axis(self.spec.resolution)
        like_b = float_buffers_of(self.hook.net)
        b1 = flatten(like_b)
        bufs = unflatten(self.b0, like_b) if len(b1) else None
        bdirs = [unflatten(b1 - self.b0, like_b)] if len(b1) else None
        loss = ev.evaluate(unflatten(self.w0, center), [unflatten(flat - self.w0, center)], alphas.unsqueeze(1),
                           self.hook.should_stop, buffers=bufs, buffer_dirs=bdirs)
        if loss is None:
            return False
        self.hook.emit("landscape", surface="interpolation", mode="1d", alphas=coords(alphas), loss=json_losses(loss),
                       done=True, partial=False, log_scale_hint=log_scale_hint(loss),
                       buffers="interpolated" if len(b1) else "none", **common)
        return True

    def _grid(self, ev: LossSurface, name: str, center: Params, dirs: list[Params],
              alphas: torch.Tensor, betas: torch.Tensor, common: dict, **extra: Any) -> bool:
        a, b = coords(alphas), coords(betas)
        ny = len(betas)

        def on_rows(row_start: int, rows: torch.Tensor) -> None:
            self.hook.emit("landscape", surface=name, mode="2d", alphas=a, betas=b, loss=json_losses(rows),
                           row_start=row_start, partial=True, done=False, progress=round((row_start + len(rows)) / ny, 4),
                           epoch=common["epoch"], step=common["step"], eval_samples=common["eval_samples"])

        grid = surface_2d(ev, center, dirs, alphas, betas, on_rows, self.hook.should_stop)
        if grid is None:
            return False
        self.hook.emit("landscape", surface=name, mode="2d", alphas=a, betas=b, loss=json_losses(grid),
                       partial=False, done=True, log_scale_hint=log_scale_hint(grid), **common, **extra)
        return True
