"""The event sink of a run: number, persist in batches, then publish (coalesced).

Invariant behind "no gap, no duplicate": an event is in the database *before* it is
published. A consumer subscribes to the group first and reads the database second, so
every event is either in what it reads or in what it receives afterwards (or both:
the consumer drops seq <= what it already sent).

Storage: one Event row per message as published. Consecutive steps of a flush share one
row (its ``seq`` is the last one, ``seqs`` inside lists them all); every other event has a
row of its own. Readers trim the first row with ``drop_seen`` so ``after=N`` stays exact.

The sink does not interpret events: how a run ended comes back from ``train()``
(training.loop.RunResult) and is recorded by ``Run.finish``.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import numpy as np
from django.conf import settings
from django.db import IntegrityError, transaction
from django.dispatch import Signal

from webapp.runs.events import clean, coalesce, dumps, envelope
from webapp.runs.models import FINISHED, Event, Run

log = logging.getLogger(__name__)

# After a flush, once per published message other than steps (status, epoch, summary ...):
# how other apps follow runs without the runs app knowing them (webapp/sweeps/signals.py).
# kwargs: run_pk, public_id, message, publisher. Sent robustly: a receiver cannot fail a run.
published = Signal()


def float32_text(value: float) -> float:
    """The shortest decimal that is the same float32: a step's loss is computed in float32,
    so nothing is lost, and its JSON is about half as long (0.6931472, not 0.6931471824645996)."""
    with np.errstate(over="ignore"):
        short = float(str(np.float32(value)))
    return short if np.isfinite(short) else value  # beyond float32's range: as it came


class EventSink:
    def __init__(self, run: Run, publisher=None, interval: float | None = None, stop_check_interval: float = 0.25):
        self.run_pk, self.public_id, self.group = run.pk, run.public_id, run.group
        self.seq = run.last_seq
        self.publisher = publisher
        self.interval = settings.STEP_PUBLISH_INTERVAL if interval is None else interval
        self.stop_check_interval = stop_check_interval
        self.pending: list[dict] = []
        self.last_flush = float("-inf")  # the first step goes out at once: the chart starts drawing
        self.last_stop_check = float("-inf")
        self.stop = False
        # True once another writer (the reaper) ended the run: what this sink still has
        # would collide with its seqs, so it is dropped and the trainer told to stop
        self.lost = False

    def emit(self, event: dict[str, Any]) -> None:
        if self.lost:
            return
        self.seq += 1
        event = {"seq": self.seq, **clean(event)}
        if event["type"] == "step" and isinstance(event.get("loss"), float):
            event["loss"] = float32_text(event["loss"])
        self.pending.append(event)
        # steps wait for the next tick (≤ 1/interval messages a second); others go at once
        if event["type"] != "step" or time.monotonic() - self.last_flush >= self.interval:
            self.flush()

    def flush(self) -> None:
        if not self.pending or self.lost:
            return
        batch, self.pending = self.pending, []
        messages = coalesce(batch)
        rows = [Event(run_id=self.run_pk, seq=m["seq"], type=m["type"], payload=dumps(m)) for m in messages]
        try:
            with transaction.atomic():
                Event.objects.bulk_create(rows)
                Run.objects.filter(pk=self.run_pk).update(last_seq=self.seq)
        except IntegrityError:
            log.warning("run %s was ended by another writer; dropping %d events", self.run_pk, len(batch))
            self.lost = self.stop = True
            return
        self.last_flush = time.monotonic()
        if self.publisher is not None:
            for message in messages:
                self.publisher.send(self.group, envelope(message))
                if message["type"] != "step":
                    published.send_robust(EventSink, run_pk=self.run_pk, public_id=self.public_id, message=message,
                                          publisher=self.publisher)

    def should_stop(self) -> bool:
        """A stop request, or the run was ended elsewhere (reaped, cancelled while queued)."""
        now = time.monotonic()
        if not self.stop and now - self.last_stop_check >= self.stop_check_interval:
            self.last_stop_check = now
            row = Run.objects.filter(pk=self.run_pk).values_list("stop_requested", "status").first()
            self.stop = row is None or row[0] or row[1] in FINISHED
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
