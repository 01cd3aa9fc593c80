"""Queueing live controls for a run and handing them to its worker."""

from __future__ import annotations

from django.utils import timezone

from training.control import ControlError, check_command
from webapp.controls.models import ControlCommand
from webapp.runs.services import ApiError

MAX_PENDING = 50  # commands waiting for one run; more means the worker is not taking them


def submit(run, body) -> ControlCommand:
    """Validate and queue ``body`` for ``run`` (the caller checked ownership)."""
    if run.status != "running":
        raise ApiError(409, f"the run is {run.status}, not running: controls apply only while it trains")
    if run.spec.get("mode") == "lr_finder":
        raise ApiError(409, "an LR range test runs its own learning rates: it cannot be paused or steered")
    optimizer = (run.spec.get("optimizer") or {}).get("name", "adam")
    try:
        command = check_command(body, optimizer)
    except ControlError as exc:
        raise ApiError(400, [{"path": exc.path, "message": exc.message}]) from None
    if ControlCommand.objects.filter(run=run, taken__isnull=True).count() >= MAX_PENDING:
        raise ApiError(429, "too many controls are waiting for this run; give the worker a moment")
    return ControlCommand.objects.create(run=run, command=command)


def take_pending(run_pk: int) -> list[dict]:
    """The run's waiting commands, oldest first, each handed out once (even to two readers)."""
    rows = list(ControlCommand.objects.filter(run_id=run_pk, taken__isnull=True)
                .order_by("id").values_list("id", "command"))
    now = timezone.now()
    # one conditional UPDATE a row: a row another reader took in between is not returned twice
    return [cmd for pk, cmd in rows
            if ControlCommand.objects.filter(id=pk, taken__isnull=True).update(taken=now)]
