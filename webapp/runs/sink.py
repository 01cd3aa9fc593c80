"""The event sink of a run: number, persist in batches, then publish (coalesced).

Invariant behind "no gap, no duplicate": an event is in the database *before* it is
published. A consumer subscribes to the group first and reads the database second, so
every event is either in what it reads or in what it receives afterwards (or both:
the consumer drops seq <= what it already sent).
"""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.db import transaction

from webapp.runs.events import clean, coalesce, dumps
from webapp.runs.models import Event, Run


class EventSink:
    def __init__(self, run: Run, publisher=None, interval: float | None = None, stop_check_interval: float = 0.25):
        self.run_pk, self.group = run.pk, run.group
        self.seq = run.last_seq
        self.publisher = publisher
        self.interval = settings.STEP_PUBLISH_INTERVAL if interval is None else interval
        self.stop_check_interval = stop_check_interval
        self.pending: list[dict] = []
        self.last_flush = float("-inf")  # the first step goes out at once: the chart starts drawing
        self.last_stop_check = 0.0
        self.stop = False
        self.summary: dict | None = None
        self.final_status: str | None = None
        self.final_message = ""

    def emit(self, event: dict[str, Any]) -> None:
        self.seq += 1
        event = {"seq": self.seq, **clean(event)}
        self.pending.append(event)
        kind = event["type"]
        if kind == "summary":
            self.summary = {k: v for k, v in event.items() if k not in ("seq", "type")}
        elif kind == "dataset" and event.get("device"):
            Run.objects.filter(pk=self.run_pk).update(device=str(event["device"])[:32])
        elif kind == "status":
            self.final_status, self.final_message = event.get("status"), event.get("message", "")
        # steps wait for the next tick (≤ 1/interval messages a second); others go at once
        if kind != "step" or time.monotonic() - self.last_flush >= self.interval:
            self.flush()

    def flush(self) -> None:
        if not self.pending:
            return
        batch, self.pending = self.pending, []
        rows = [Event(run_id=self.run_pk, seq=e["seq"], type=e["type"], payload=dumps(e)) for e in batch]
        with transaction.atomic():
            Event.objects.bulk_create(rows)
            Run.objects.filter(pk=self.run_pk).update(last_seq=self.seq)
        self.last_flush = time.monotonic()
        if self.publisher is not None:
            for message in coalesce(batch):
                self.publisher.send(self.group, {"type": "run.event", "event": message})

    def should_stop(self) -> bool:
        now = time.monotonic()
        if not self.stop and now - self.last_stop_check >= self.stop_check_interval:
            self.last_stop_check = now
            self.stop = Run.objects.filter(pk=self.run_pk, stop_requested=True).exists()
        return self.stop

    def poll_controls(self) -> list[dict]:
        """Live controls waiting for this run (webapp.controls), read at most every ~0.25 s;
        the trainer applies them between batches (training/control.py)."""
        now = time.monotonic()
        if now - getattr(self, "last_control_check", float("-inf")) < self.stop_check_interval:
            return []
        self.last_control_check = now
        from webapp.controls.services import take_pending

        return take_pending(self.run_pk)

    def close(self) -> None:
        self.flush()
        if self.publisher is not None:
            self.publisher.drain()
