"""Live controls: pause, resume, step N batches, and change lr / weight decay mid-run.

The trainer calls :meth:`Controller.between_batches` once after every batch. Commands
come from the sink's optional ``poll_controls()`` (the webapp's sink reads them from the
database, so they reach the worker whichever machine it runs on; tests script them).
Each command is applied exactly where the call happens and recorded as a ``control``
event ``{"action", ...values, "step"}`` so replays and charts show it.

Semantics (docs/protocol.md, "Live controls"):

- ``pause``: the trainer waits between two batches, polling for commands and asking
  ``sink.should_stop()`` (which also keeps the run's heartbeat fresh). A stop request
  ends it ``cancelled``; waiting longer than ``Limits.max_pause_seconds`` in one pause,
  or past the run's own deadline (paused time counts toward ``max_seconds``), ends it
  ``timed_out``. Everything recorded so far is kept.
- ``step`` with ``steps`` = N: run exactly N more batches, then pause again.
- ``resume``: carry on training (cancels what is left of a ``step``).
- ``set`` with ``lr`` and/or ``weight_decay``: from the next batch on, the lr is this
  constant value; the schedule (warm-up, decay, plateau reductions) no longer applies.
  ``weight_decay`` sets the optimizer's own weight decay (coupled L2 for SGD/Adam…,
  decoupled for AdamW).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any, Optional

ACTIONS = ("pause", "resume", "step", "set")
MAX_STEPS = 100_000  # one `step` command; the API enforces the same bound
POLL_SECONDS = 0.05  # how often a paused trainer looks for commands


class ControlError(ValueError):
    """A command that cannot be applied; ``path`` names the offending field."""

    def __init__(self, path: str, message: str):
        self.path, self.message = path, message
        super().__init__(f"{path}: {message}")


def has_weight_decay(optimizer_name: str) -> bool:
    from training.optim import DEFAULTS

    return "weight_decay" in DEFAULTS.get(optimizer_name, {})


def check_command(cmd: Any, optimizer_name: Optional[str] = None) -> dict:
    """The command in canonical form, or ControlError naming the first bad field.

    One validator for both ends: the API answers 400 with it, the trainer refuses
    anything that slipped past (e.g. a row written by hand).
    """
    if not isinstance(cmd, dict):
        raise ControlError("", "a control command must be a JSON object")
    action = cmd.get("action")
    if action not in ACTIONS:
        raise ControlError("/action", f"action must be one of {', '.join(ACTIONS)}")
    known = {"pause": set(), "resume": set(), "step": {"steps"}, "set": {"lr", "weight_decay"}}[action]
    extra = sorted(set(cmd) - known - {"action"})
    if extra:
        raise ControlError(f"/{extra[0]}", f"{action!r} takes no field {extra[0]!r}")
    out: dict[str, Any] = {"action": action}
    if action == "step":
        n = cmd.get("steps", 1)
        if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= MAX_STEPS:
            raise ControlError("/steps", f"steps must be a whole number from 1 to {MAX_STEPS}")
        out["steps"] = n
    if action == "set":
        if "lr" not in cmd and "weight_decay" not in cmd:
            raise ControlError("/lr", "'set' needs lr and/or weight_decay")
        if "lr" in cmd:
            out["lr"] = _number(cmd["lr"], "/lr", "the learning rate", positive=True)
        if "weight_decay" in cmd:
            if optimizer_name is not None and not has_weight_decay(optimizer_name):
                raise ControlError("/weight_decay", f"the {optimizer_name} optimizer has no weight_decay")
            out["weight_decay"] = _number(cmd["weight_decay"], "/weight_decay", "weight_decay", positive=False)
    return out


def _number(v: Any, path: str, what: str, positive: bool) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        raise ControlError(path, f"{what} must be a finite number")
    if positive and v <= 0:
        raise ControlError(path, f"{what} must be greater than 0")
    if v < 0:
        raise ControlError(path, f"{what} must be 0 or more")
    if v > 10:
        raise ControlError(path, f"{what} must be at most 10")
    return float(v)


class FixedLR:
    """Stands in for the trainer's LRSchedule once the lr was set by hand: constant from now on."""

    def __init__(self, schedule: Any, lr: float):
        self.inner = getattr(schedule, "inner", schedule)
        self.lr = lr

    def lr_at(self, step: int) -> float:
        return self.lr

    def epoch_end(self, epoch: int, val_loss: Optional[float]) -> None:
        return None  # no plateau reductions behind the user's back


class Controller:
    """Applies commands between batches. ``trainer`` needs ``sink``, ``opt``, ``sched``,
    ``step``, ``emit(type, **payload)`` and ``spec.optimizer.name``."""

    def __init__(self, trainer: Any, max_pause_seconds: float = 600.0,
                 deadline: Optional[Callable[[], float]] = None,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep):
        self.t = trainer
        self.poll = getattr(trainer.sink, "poll_controls", None)
        self.max_pause = max_pause_seconds
        self.deadline = deadline  # perf_counter time past which the run is over
        self.clock, self.sleep = clock, sleep
        self.paused = False
        self.budget: Optional[int] = None  # batches left of a `step` command
        self.applied: list[dict] = []

    @property
    def enabled(self) -> bool:
        return self.poll is not None

    def between_batches(self) -> Optional[tuple[str, str]]:
        """Apply what is pending; while paused, wait. Returns (status, message) to end the run."""
        if self.poll is None:
            return None
        if self.budget is not None:
            self.budget -= 1
            if self.budget <= 0:
                self.budget = None
                self.paused = True
                self._record({"action": "pause", "reason": "steps done"})
        self._apply_pending()
        if not self.paused:
            return None
        return self._wait()

    # -- internals -------------------------------------------------------------

    def _apply_pending(self) -> None:
        for raw in self.poll() or ():
            try:
                cmd = check_command(raw, self.t.spec.optimizer.name)
            except ControlError:  # the API refuses these; a bad row written by hand is skipped
                continue
            self._apply(cmd)

    def _apply(self, cmd: dict) -> None:
        action = cmd["action"]
        if action == "pause":
            self.paused, self.budget = True, None
        elif action == "resume":
            self.paused, self.budget = False, None
        elif action == "step":
            self.paused, self.budget = False, cmd["steps"]
        elif action == "set":
            if "lr" in cmd:
                self.t.sched = FixedLR(self.t.sched, cmd["lr"])
                for group in self.t.opt.param_groups:
                    group["lr"] = cmd["lr"]
            if "weight_decay" in cmd:
                for group in self.t.opt.param_groups:
                    group["weight_decay"] = cmd["weight_decay"]
        self._record(cmd)

    def _record(self, cmd: dict) -> None:
        event = {**cmd, "step": self.t.step}
        self.applied.append(event)
        self.t.emit("control", **event)

    def _wait(self) -> Optional[tuple[str, str]]:
        since = self.clock()
        while self.paused:
            if self.t.sink.should_stop():  # also the heartbeat of a waiting run
                where = f"while paused at step {self.t.step}"
                stopped = getattr(self.t, "_stopped", None)  # the user, or the run's time limit
                return stopped(where) if stopped else ("cancelled", f"stopped by request {where}")
            if self.clock() - since > self.max_pause:
                return "timed_out", (f"paused for more than {self.max_pause:g} s at step {self.t.step}; "
                                     "the run ended to free its worker")
            if self.deadline is not None and time.perf_counter() > self.deadline():
                return "timed_out", f"time limit reached while paused at step {self.t.step}"
            self.sleep(POLL_SECONDS)
            self._apply_pending()
        return None


class ScriptedControls:
    """Mixin for test sinks: deliver commands when the run reaches given steps.

    ``script`` is a list of ``(at_step, command)``; each is delivered once, in order,
    on the first poll at which the trainer has run at least ``at_step`` batches (and
    every earlier command has been delivered). A paused trainer keeps polling, so
    ``[(10, pause), (10, step 5), (15, resume)]`` pauses at 10, steps to 15, resumes.
    """

    def set_script(self, script: list[tuple[int, dict]]) -> None:
        self.script = list(script)

    def poll_controls(self) -> list[dict]:
        steps = sum(e["type"] == "step" for e in self.events)  # type: ignore[attr-defined]
        # one per poll, like a person pressing buttons one after another
        if getattr(self, "script", None) and self.script[0][0] <= steps:
            return [self.script.pop(0)[1]]
        return []
