"""A sweep's live table: one channel group per sweep, told when one of its runs changes.

Who tells (any process, through the project's one Publisher):
- the runs' event sink, through ``webapp.runs.sink.published`` (webapp/sweeps/signals.py):
  every status and epoch event of a sweep's run, in the worker or the web process;
- the end of a run's task (after ``Run.finish``: the row's final status and metric) and
  the release of waiting runs to the broker (webapp/sweeps/services.py).

Who listens: webapp/sweeps/consumers.py, which throttles and sends row updates to browsers.
A notice is small; the consumer reads the row from the database unless the notice
carries the metric of a new epoch.
"""

from __future__ import annotations

import functools
import math

ENVELOPE_TYPE = "sweep.run"  # → SweepConsumer.sweep_run


def group_name(public_id: str) -> str:
    """The channel group of a sweep (Redis group names: ASCII letters, digits, ``-_.``)."""
    return f"sweep.{public_id}"


@functools.lru_cache(maxsize=4096)
def membership(run_pk: int, run_public_id: str) -> tuple[str, str] | None:
    """(sweep public id, metric) of a run, or None. A run's sweep never changes; the public
    id is in the key so a reused primary key (tests roll back) cannot hit a stale entry."""
    from webapp.sweeps.models import SweepRun

    row = SweepRun.objects.filter(run_id=run_pk).values_list("sweep__public_id", "sweep__metric").first()
    return (row[0], row[1]) if row else None


def notice(run_public_id: str, event: dict, metric: str) -> dict | None:
    """The channel-layer message for one run event, or None when the table does not show it."""
    kind = event.get("type")
    if kind == "status":
        return {"type": ENVELOPE_TYPE, "run": run_public_id, "event": "status", "status": event.get("status")}
    if kind == "epoch":
        value = event.get(metric) if metric.startswith(("train_", "val_")) else None
        value = float(value) if isinstance(value, (int, float)) and math.isfinite(value) else None
        return {"type": ENVELOPE_TYPE, "run": run_public_id, "event": "epoch", "epoch": event.get("epoch"), "value": value}
    return None


def changed(sweep_public_id: str, run_public_id: str, publisher=None) -> None:
    """Tell a sweep's viewers to read this run's row again (its status or waiting flag moved)."""
    if publisher is None:
        from webapp.runs.publisher import Publisher

        publisher = Publisher.get()
    publisher.send(group_name(sweep_public_id), {"type": ENVELOPE_TYPE, "run": run_public_id, "event": "changed"})
