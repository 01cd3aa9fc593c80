"""The trainer: runs a spec, emits events to a sink, obeys stop requests.

``train(spec, sink)`` is the whole engine. It reports events, never destinations
(minGPT's callbacks): the Celery task plugs in a sink that persists and publishes,
tests plug in :class:`ListSink`. In-memory data stays on the device and is batched by
index (no DataLoader: for small tensors its per-batch collation costs more than the step).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional, Protocol

import torch

from training import boundary as boundary_mod
from training.data import DataBundle, load
from training.events import validate_event
from training.losses import build_loss, metrics
from training.model import build_model
from training.numbers import finite_or_none
from training.optim import EarlyStopper, LRSchedule, Regularizer, build_optimizer
from training.spec import Limits, Spec


class Sink(Protocol):
    def emit(self, event: dict[str, Any]) -> None: ...

    def should_stop(self) -> bool: ...


class ListSink:
    """Collects events in a list; ``stop_after_steps`` simulates a user pressing Stop.

    Every event is checked against its typed model (training.events) as it arrives, so
    any test that trains through a ListSink also proves the trainer keeps the protocol.
    """

    def __init__(self, stop_after_steps: Optional[int] = None, validate: bool = True):
        self.events: list[dict] = []
        self.stop_after_steps = stop_after_steps
        self.validate = validate

    def emit(self, event: dict) -> None:
        if self.validate:
            validate_event(event)
        self.events.append(event)

    def should_stop(self) -> bool:
        if self.stop_after_steps is None:
            return False
        return sum(e["type"] == "step" for e in self.events) >= self.stop_after_steps

    def of(self, kind: str) -> list[dict]:
        return [e for e in self.events if e["type"] == kind]


@dataclass(frozen=True)
class RunResult:
    """How a run ended, as ``train()`` returns it (the task records it; the sink never guesses).

    Compares equal to its status string, so ``train(spec, sink) == "succeeded"`` reads as it says.
    """

    status: str
    message: str = ""
    summary: Optional[dict] = field(default=None, compare=False)
    device: Optional[str] = field(default=None, compare=False)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, str):
            return self.status == other
        if isinstance(other, RunResult):
            return (self.status, self.message) == (other.status, other.message)
        return NotImplemented

    def __hash__(self) -> int:
        return hash((self.status, self.message))


class _LimitedSink:
    """The trainer's view of its sink: ``should_stop`` is also true past the run's deadline.

    Every long computation (epochs, landscape, sharpness, LR test) polls
    ``trainer.sink.should_stop`` between chunks, so ``max_seconds`` bounds all of them.
    """

    def __init__(self, sink: "Sink", deadline: float):
        self.inner, self.deadline = sink, deadline

    def emit(self, event: dict[str, Any]) -> None:
        self.inner.emit(event)

    def stop_requested(self) -> bool:
        return bool(self.inner.should_stop())

    def past_deadline(self) -> bool:
        return time.perf_counter() > self.deadline

    def should_stop(self) -> bool:
        return self.past_deadline() or self.stop_requested()

    def __getattr__(self, name: str) -> Any:  # anything else the sink offers
        return getattr(self.inner, name)


class Diverged(Exception):
    def __init__(self, step: int, loss: float):
        self.step, self.loss = step, loss
        super().__init__(f"loss became {loss} at step {step}")


EVAL_CHUNK = 8192  # samples per forward pass when evaluating a split


def batch_edges(n: int, bs: int) -> list[int]:
    """Batch boundaries; a last batch of one sample joins the one before it, because
    batch norm cannot normalize a single sample ("Expected more than 1 value per channel")."""
    edges = list(range(0, n, bs)) + [n]
    if bs > 1 and len(edges) > 2 and edges[-1] - edges[-2] == 1:
        del edges[-2]
    return edges


def pick_device(name: str) -> torch.device:
    if name == "cuda" or (name == "auto" and torch.cuda.is_available()):
        if not torch.cuda.is_available():
            raise RuntimeError("training.device is 'cuda' but this worker has no GPU")
        return torch.device("cuda")
    return torch.device("cpu")


@torch.no_grad()
def evaluate(net: torch.nn.Module, loss_fn, x: torch.Tensor, y: torch.Tensor, task: str,
             chunk: int = EVAL_CHUNK) -> tuple[dict, Optional[torch.Tensor]]:
    """Loss and metrics over a whole split in eval mode; returns the logits too."""
    if len(x) == 0:
        return {}, None
    was_training = net.training
    net.eval()
    logits = torch.cat([net(x[i:i + chunk]) for i in range(0, len(x), chunk)])
    net.train(was_training)
    out = {"loss": loss_fn(logits, y).item(), **metrics(logits, y, task)}
    return out, logits


def _confusion(logits: torch.Tensor, y: torch.Tensor, k: int) -> tuple[list, list]:
    pred = logits.argmax(1)
    cm = torch.bincount(y * k + pred, minlength=k * k).reshape(k, k)
    per_class = (cm.diag().float() / cm.sum(1).clamp(min=1).float()).tolist()
    return cm.tolist(), per_class



class Trainer:
    """One run of one spec. ``run()`` drives the numbered steps below."""

    def __init__(self, spec: Spec, sink: Sink, upload_root: Optional[Path] = None,
                 limits: Optional[Limits] = None, artifacts_dir: Optional[Path] = None):
        self.artifacts_dir = artifacts_dir  # where the run's weights are kept (training.weights)
        self.spec, self.limits = spec, limits or Limits()
        self.upload_root = upload_root
        self.step = 0
        self.t0 = time.perf_counter()
        self.sink = _LimitedSink(sink, self._deadline())
        self.summary: Optional[dict] = None
        self.device: Optional[torch.device] = None

    # -- helpers -------------------------------------------------------------

    def emit(self, type_: str, **payload: Any) -> None:
        self.sink.emit({"type": type_, **payload})

    def _deadline(self) -> float:
        limit = self.limits.max_seconds
        if self.spec.training.max_seconds:
            limit = min(limit, self.spec.training.max_seconds)
        return self.t0 + limit

    def should_stop(self) -> bool:
        """A stop request or the time limit: the one callable every long computation polls."""
        return self.sink.should_stop()

    def _stopped(self, where: str) -> tuple[str, str]:
        """After a computation returned early: was it the user or the clock?"""
        if self.sink.stop_requested():
            return "cancelled", f"stopped by request {where}"
        return "timed_out", f"time limit reached {where}"

    def result(self, status: str, message: str) -> "RunResult":
        return RunResult(status, message, self.summary, str(self.device) if self.device is not None else None)

    # -- the run -------------------------------------------------------------

    def setup(self) -> None:
        spec = self.spec
        # 1. seeds first: data generation, init and batch order are all deterministic
        torch.manual_seed(spec.seed)
        self.gen = torch.Generator().manual_seed(spec.seed)
        self.device = pick_device(spec.training.device)
        # 2. data, on the device for the whole run
        self.data: DataBundle = load(spec, self.upload_root).to(self.device)
        d = self.data
        self.emit("dataset", task=d.task, n_classes=d.n_classes, input_shape=list(d.input_shape),
                  feature_names=d.feature_names, points=d.points, device=str(self.device),
                  n_train=len(d.x_train), n_val=len(d.x_val), n_test=len(d.x_test),
                  label_noise=len(d.info.get("flipped", [])))
        # 3. model, loss, optimizer, schedule, regularizers
        self.net = build_model(spec, d.input_shape, d.out_dim).to(self.device)
        if spec.model.init_from is not None:  # matching layers from a finished run's weights
            from training import weights as weights_mod

            weights_mod.init_from(self.net, spec, self.artifacts_dir)
        self.params = sum(p.numel() for p in self.net.parameters())
        self.loss_fn = build_loss(spec.loss, d.task, d.n_classes, spec.regularization.label_smoothing)
        self.eval_loss_fn = build_loss(spec.loss, d.task, d.n_classes, 0.0)
        self.opt = build_optimizer(self.net, spec.optimizer)
        n = len(d.x_train)
        self.bs = min(spec.training.batch_size, n)
        self.steps_per_epoch = len(batch_edges(n, self.bs)) - 1
        self.sched = LRSchedule(spec.schedule, spec.optimizer.lr, self.steps_per_epoch, spec.training.epochs)
        self.reg = Regularizer(spec.regularization, self.net)
        self.stopper = EarlyStopper(spec.regularization.early_stopping)
        from training.data.augment import build_augmenter

        self.augment = build_augmenter(spec.augment, d)
        self.diag = None
        if spec.monitor.diagnostics:
            from training.diagnostics import Diagnostics

            self.diag = Diagnostics(self.net)
        self.tracker = None
        ls = spec.monitor.landscape
        if ls is not None and ls.mode != "none":
            from training.landscape import LandscapeHook, Tracker

            hook = LandscapeHook(net=self.net, loss_fn=self.eval_loss_fn, x=d.x_train, y=d.y_train, emit=self.emit,
                                 should_stop=self.should_stop, device=self.device)
            self.tracker = Tracker(hook, ls)
        self._setup_controls_and_neurons()
        self.swa = None  # stochastic weight averaging (training/swa.py)
        if spec.regularization.swa is not None and spec.mode == "train":
            from training.swa import SWA

            s = spec.regularization.swa
            self.swa = SWA(self.net, s.start_epoch, s.lr, s.every)
        self.lr_now = spec.optimizer.lr

    def _setup_controls_and_neurons(self) -> None:
        """Live controls (training/control.py) and the neuron view (training/neurons.py)."""
        from training.control import Controller

        self.control = Controller(self, self.limits.max_pause_seconds)
        self.neurons, self.neurons_every = None, 1
        if self.spec.monitor.neurons and self.spec.mode == "train":
            from training import neurons as neurons_mod

            self.neurons, reason = neurons_mod.build(self.net, self.data)
            self.neurons_every = neurons_mod.every(self.spec.training.epochs)
            if reason:
                self.emit("neurons", epoch=0, available=False, reason=reason)

    def run(self) -> RunResult:
        self.emit("status", status="running", message="")
        self.setup()
        if self.spec.mode == "lr_finder":
            return self._lr_finder()
        status, message = "succeeded", ""
        epochs_run = 0
        try:
            for epoch in range(1, self.spec.training.epochs + 1):
                outcome = self._epoch(epoch)
                epochs_run = epoch
                if outcome is not None:
                    status, message = outcome
                    break
        except Diverged as exc:
            status, message = "diverged", f"loss became {exc.loss} at step {exc.step}"
        return self._finish(status, message, epochs_run)

    def batches(self):
        """Shuffled index batches over the training split (reshuffled every epoch)."""
        n = len(self.data.x_train)
        perm = torch.randperm(n, generator=self.gen).to(self.device)
        edges = batch_edges(n, self.bs)
        for start, end in zip(edges, edges[1:]):
            idx = perm[start:end]
            yield self.data.x_train[idx], self.data.y_train[idx]

    def _train_step(self, xb: torch.Tensor, yb: torch.Tensor, epoch: int, record_grads: bool) -> float:
        lr = self.sched.lr_at(self.step)
        if self.swa is not None and getattr(self.sched, "inner", None) is None:  # an lr set by hand wins
            lr = self.swa.lr_for(epoch, lr)
        self.lr_now = lr
        for group in self.opt.param_groups:
            group["lr"] = lr
        k = self.spec.training.repeated_augment
        if k > 1:  # k copies of every sample, each augmented on its own draw below
            xb, yb = xb.repeat((k,) + (1,) * (xb.dim() - 1)), yb.repeat((k,) + (1,) * (yb.dim() - 1))
        if self.augment is not None:
            xb, yb = self.augment(xb, yb, self.gen)
        self.opt.zero_grad(set_to_none=True)
        data_loss = self.loss_fn(self.net(xb), yb)
        penalty, _ = self.reg.penalty()
        total = data_loss if penalty is None else data_loss + penalty
        value = data_loss.item()
        # one host sync a step; a second only when a penalty is added (it can overflow alone)
        if not math.isfinite(value) or (penalty is not None and not math.isfinite(total.item())):
            raise Diverged(self.step + 1, value)
        total.backward()
        if record_grads and self.diag is not None:
            self.diag.record_gradients(lr)
        self.reg.before_step()
        self.opt.step()
        self.reg.after_step(lr)
        self.step += 1
        self.emit("step", step=self.step, epoch=epoch, loss=value, lr=lr)
        return value

    def _epoch(self, epoch: int) -> Optional[tuple[str, str]]:
        spec, t_epoch = self.spec, time.perf_counter()
        self.net.train()
        diag_due = self.diag is not None and epoch % spec.monitor.diagnostics_every == 0
        last = self.steps_per_epoch - 1
        for i, (xb, yb) in enumerate(self.batches()):
            self._train_step(xb, yb, epoch, record_grads=diag_due and i == last)
            if self.tracker is not None:
                self.tracker.on_step(self.step)
            if self.should_stop():
                return self._stopped(f"at step {self.step}")
            outcome = self.control.between_batches()  # pause / step / set lr, between two batches
            if outcome is not None:
                return outcome
        # evaluation, diagnostics, boundary, early stopping, schedule
        tr, _ = evaluate(self.net, self.eval_loss_fn, self.data.x_train, self.data.y_train, self.data.task)
        layers = None
        if diag_due and 0 < len(self.data.x_val) <= EVAL_CHUNK:
            with self.diag.watching():  # activation statistics from the validation pass itself
                va, _ = evaluate(self.net, self.eval_loss_fn, self.data.x_val, self.data.y_val, self.data.task)
            layers = self.diag.rows()
        else:
            va, _ = evaluate(self.net, self.eval_loss_fn, self.data.x_val, self.data.y_val, self.data.task)
        _, parts = self.reg.penalty()
        row = {"epoch": epoch, "train_loss": tr["loss"], "val_loss": va.get("loss"),
               "train_acc": tr.get("acc"), "val_acc": va.get("acc"), "lr": self.lr_now,
               "seconds": round(time.perf_counter() - t_epoch, 4)}
        if self.data.task == "regression":
            row.update(train_r2=tr["r2"], val_r2=va.get("r2"), train_rmse=tr["rmse"], val_rmse=va.get("rmse"))
        if parts:
            row["penalty"] = {k: float(v) for k, v in parts.items()}
        if self.swa is not None and self.swa.due(epoch):
            self.swa.update(self.net)
            row.update(self._swa_metrics(("val",)))
        if not math.isfinite(tr["loss"]):
            raise Diverged(self.step, tr["loss"])
        self.emit("epoch", **row)
        if diag_due:
            self.emit("diagnostics", epoch=epoch, step=self.step, layers=layers or self.diag.collect(self._eval_x()))
        if spec.monitor.boundary and epoch % spec.monitor.boundary_every == 0:
            b = boundary_mod.compute(self.net, self.data, spec.monitor.boundary_resolution)
            if b is not None:
                self.emit("boundary", epoch=epoch, **b)
        if self.neurons is not None and (epoch % self.neurons_every == 0 or epoch == spec.training.epochs):
            self.emit("neurons", **self.neurons.collect(epoch))
        if self.tracker is not None:
            self.tracker.on_epoch(epoch, self.step)
        self.sched.epoch_end(epoch, va.get("loss", tr["loss"]))
        metrics_now = {"val_loss": va.get("loss"), "val_acc": va.get("acc"), "train_loss": tr["loss"]}
        if self.stopper.update(epoch, metrics_now, self.net):
            return "succeeded", f"early stopping at epoch {epoch} (best epoch {self.stopper.best_epoch})"
        return None

    def _swa_metrics(self, splits: tuple[str, ...]) -> dict[str, Any]:
        """The averaged weights (BN statistics recomputed) evaluated on ``splits``: swa_<split>_<metric>."""
        d = self.data
        avg = self.swa.finalize(d.x_train, self.bs)
        out: dict[str, Any] = {}
        for split in splits:
            x, y = getattr(d, f"x_{split}"), getattr(d, f"y_{split}")
            m, _ = evaluate(avg, self.eval_loss_fn, x, y, d.task)
            out.update({f"swa_{split}_{k}": finite_or_none(v) for k, v in m.items()})
        return out

    def _eval_x(self) -> torch.Tensor:
        x = self.data.x_val if len(self.data.x_val) else self.data.x_train
        return x[:2048]

    def _finish(self, status: str, message: str, epochs_run: int) -> RunResult:
        if status == "diverged":
            self.emit("status", status=status, message=message)
            return self.result(status, message)
        if self.artifacts_dir is not None:  # the final (and the early stopper's best) weights
            from training import weights as weights_mod

            weights_mod.save_run(self.net, self.spec, self.artifacts_dir, best_state=self.stopper.best_state,
                                 epoch=epochs_run, best_epoch=self.stopper.best_epoch)
        self.stopper.restore(self.net)
        d = self.data
        summary: dict[str, Any] = {"epochs_run": epochs_run, "params": self.params, "steps": self.step,
                                   "best_epoch": self.stopper.best_epoch or epochs_run,
                                   "early_stopped": self.stopper.stopped,
                                   "seconds": round(time.perf_counter() - self.t0, 3)}
        for split, x, y in (("train", d.x_train, d.y_train), ("val", d.x_val, d.y_val), ("test", d.x_test, d.y_test)):
            m, logits = evaluate(self.net, self.eval_loss_fn, x, y, d.task)
            for k, v in m.items():
                summary[f"{split}_{k}"] = finite_or_none(v)
            if split == "test" and logits is not None and d.task == "classification":
                summary["confusion_matrix"], summary["per_class_acc"] = _confusion(logits, y, d.n_classes)
        if self.swa is not None and self.swa.n:  # beside the raw weights, never instead of them
            summary["swa"] = {"snapshots": self.swa.n, "start_epoch": self.swa.start_epoch,
                              **{k[4:]: v for k, v in self._swa_metrics(("train", "val", "test")).items()}}
        if status == "succeeded" and self.tracker is not None:
            restored = self.stopper.best_epoch if self.stopper.stopped and self.stopper.best_state is not None else None
            extra = self.tracker.finish(self.step, restored_epoch=restored)
            if extra:
                summary.update(extra)
            if self.should_stop():  # stopped (or out of time) while the landscape was being drawn
                status, message = self._stopped("while computing the loss landscape")
        self.summary = summary
        self.emit("summary", **summary)
        self.emit("status", status=status, message=message)
        return self.result(status, message)

    def _lr_finder(self) -> RunResult:
        from training.lr_finder import find_lr

        def stream():
            while True:
                yield from self.batches()

        result = find_lr(self.net, self.loss_fn, self.opt, stream(), self.spec.lr_finder,
                         should_stop=self.should_stop, steps_per_epoch=self.steps_per_epoch)
        self.emit("lr_finder", **result)
        self.summary = {"params": self.params, "epochs_run": 0, "best_epoch": None, "early_stopped": False,
                        "seconds": round(time.perf_counter() - self.t0, 3), "lr_suggestion": result.get("suggestion")}
        self.emit("summary", **self.summary)
        status, message = self._stopped("during the LR range test") if self.should_stop() else ("succeeded", "")
        self.emit("status", status=status, message=message)
        return self.result(status, message)


def train(spec: Spec, sink: Sink, upload_root: Optional[Path] = None, limits: Optional[Limits] = None,
          artifacts_dir: Optional[Path] = None) -> RunResult:
    """Run ``spec`` to completion, streaming events to ``sink``; returns how it ended."""
    return Trainer(spec, sink, upload_root, limits, artifacts_dir).run()
