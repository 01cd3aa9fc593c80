"""Database bytes per 10,000 steps: one Event row per step (before) vs one row per flush
holding the coalesced steps (webapp.runs.sink.EventSink, now), measured side by side.

One real training run is recorded with the time of each event; both layouts then store
that same stream in a fresh SQLite database, the compact one through the real EventSink
driven by the recorded clock (so its flushes coalesce exactly as they would live).
Bytes are SQLite's own page accounting (dbstat) of the event table and its indexes.

    .venv/bin/python bench/bench_storage.py [--steps 10000] [--interval 0.05]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def record_run(steps: int) -> list[tuple[float, dict]]:
    import torch

    from training.loop import train
    from training.spec import validate

    torch.set_num_threads(1)
    out: list[tuple[float, dict]] = []

    class Recorder:
        done = 0

        def emit(self, event):
            out.append((time.monotonic(), event))
            self.done += event["type"] == "step"

        def should_stop(self):
            return self.done >= steps

    # 350 training samples / batch 8 = 44 steps an epoch, with its epoch event; no boundary or
    # diagnostics (their grids are stored the same way in both layouts and would hide the steps)
    spec = validate({"data": {"dataset": "spiral", "n_samples": 500}, "training": {"epochs": 2000, "batch_size": 8},
                     "monitor": {"boundary": False, "diagnostics": False}})
    train(spec, Recorder())
    return out


def event_bytes(db_path: Path) -> int:
    import sqlite3

    con = sqlite3.connect(db_path)
    try:
        names = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE tbl_name = 'runs_event'")]
        marks = ",".join("?" * len(names))
        return con.execute(f"SELECT SUM(pgsize) FROM dbstat WHERE name IN ({marks})", names).fetchone()[0] or 0
    finally:
        con.close()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=10_000)
    parser.add_argument("--interval", type=float, default=0.05, help="the sink's publish interval (DESCENT_STEP_PUBLISH_INTERVAL)")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="descent-bench-storage-"))
    os.environ.update({"DJANGO_SETTINGS_MODULE": "webapp.settings", "DESCENT_VAR_DIR": str(tmp),
                       "DATABASE_URL": f"sqlite:///{tmp / 'bench.sqlite3'}", "DESCENT_CHANNEL_LAYER": "memory"})
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from webapp.runs import sink as sink_mod
    from webapp.runs.events import dumps
    from webapp.runs.models import Event, Run
    from webapp.runs.sink import EventSink

    call_command("migrate", verbosity=0)
    events = record_run(args.steps)
    n_steps = sum(e["type"] == "step" for _, e in events)

    # before: one row per event, as the sink stored them until this change
    run = Run.objects.create(spec={}, owner_session="bench")
    Event.objects.bulk_create([Event(run=run, seq=i, type=e["type"], payload=dumps({"seq": i, **e}))
                               for i, (_, e) in enumerate(events, start=1)], batch_size=2000)
    rows_before = Event.objects.filter(run=run).count()
    text_before = sum(len(t) for t in Event.objects.filter(run=run).values_list("payload", flat=True))
    connection.close()
    before = event_bytes(tmp / "bench.sqlite3")
    Run.objects.all().delete()
    with connection.cursor() as cur:
        cur.execute("VACUUM")
    connection.close()
    empty = event_bytes(tmp / "bench.sqlite3")

    # now: the real sink, replaying the recorded clock
    clock = {"now": events[0][0]}
    sink_mod.time.monotonic = lambda: clock["now"]  # the module's clock only (bench process)
    run = Run.objects.create(spec={}, owner_session="bench")
    sink = EventSink(run, None, interval=args.interval)
    for t, e in events:
        clock["now"] = t
        sink.emit(e)
    sink.close()
    rows_after = Event.objects.filter(run=run).count()
    text_after = sum(len(t) for t in Event.objects.filter(run=run).values_list("payload", flat=True))
    connection.close()
    after = event_bytes(tmp / "bench.sqlite3")

    per = 10_000 / n_steps
    b, a = (before - empty) * per, (after - empty) * per
    seconds = events[-1][0] - events[0][0]
    print(f"recorded run: {n_steps} steps, {len(events)} events, {seconds:.1f} s of training "
          f"({n_steps / seconds:.0f} steps/s), publish interval {args.interval} s")
    print(f"one row per event   : {rows_before * per:9.0f} rows  {b / 1e6:8.2f} MB per 10,000 steps "
          f"(JSON text {text_before * per / 1e6:.2f} MB)")
    print(f"one row per flush   : {rows_after * per:9.0f} rows  {a / 1e6:8.2f} MB per 10,000 steps "
          f"(JSON text {text_after * per / 1e6:.2f} MB)")
    print(f"ratio (before/after): rows {rows_before / rows_after:.1f}x  bytes {b / max(a, 1):.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
