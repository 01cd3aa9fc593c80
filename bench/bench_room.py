"""Teacher page event-to-screen latency with 30 students running at once (p50/p95/max).

The whole stack runs (Redis, daphne, SQLite) except Celery: this script plays the workers,
so it knows when each event left. 30 students join a room and create a run each; the
script claims the runs and streams epoch events for all of them through the same sink
and channel layer the workers use (persist, then publish). The teacher page in headless
Chromium records when it painted each run's epoch (window.descentRoomStats); latency =
painted - sent, on the same clock. Target: p95 under 1 s.

    .venv/bin/python bench/bench_room.py [--students 30] [--epochs 20] [--rate 4]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import tests.live as live  # noqa: E402
from tests.e2e.conftest import ARGS, CHROMIUM  # noqa: E402

SPEC = {"data": {"dataset": "moons", "n_samples": 200}, "training": {"epochs": 20}}


def start_without_worker() -> live.LiveApp:
    """The live app with a process that does nothing in place of the Celery worker."""
    live.start_worker = lambda env: subprocess.Popen(["sleep", "86400"])
    live.LiveApp.wait_worker = lambda self, timeout=60: None
    os.environ.update({"DESCENT_MAX_ACTIVE_RUNS_PER_IP": "1000", "DESCENT_MAX_QUEUED_RUNS": "1000"})
    return live.LiveApp().start()


def setup_django(app: live.LiveApp) -> None:
    for key in ("DJANGO_SETTINGS_MODULE", "DESCENT_VAR_DIR", "DATABASE_URL", "DESCENT_CHANNEL_LAYER", "REDIS_URL"):
        os.environ[key] = app.env[key]
    # Playwright's sync API keeps an event loop in this thread; the ORM calls here are plain
    # blocking calls between page interactions, as in any script
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    import django

    django.setup()


def percentile(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q * (len(xs) - 1))))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--students", type=int, default=30)
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--rate", type=float, default=4.0, help="epochs a second per run")
    args = ap.parse_args()
    app = start_without_worker()
    try:
        teacher = live.Client(app.url)
        status, room = teacher.request("POST", "/api/rooms", {"name": "bench"})
        assert status == 201, room
        run_ids = []
        for i in range(args.students):
            s = live.Client(app.url)
            assert s.request("POST", f"/api/rooms/{room['code']}/join", {"name": f"student {i + 1}"})[0] == 200
            status, run = s.request("POST", "/api/runs", {"spec": SPEC})
            assert status == 201, run
            run_ids.append(run["id"])
        setup_django(app)
        from playwright.sync_api import sync_playwright

        from webapp.runs.models import Run
        from webapp.runs.publisher import Publisher
        from webapp.runs.sink import EventSink

        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(app.url + room["teacher_url"])
            page.wait_for_function(f"() => document.querySelectorAll('.student-card').length === {args.students}", timeout=60_000)
            page.wait_for_timeout(3000)  # every card's websocket is open
            runs = [Run.objects.get(public_id=r) for r in run_ids]
            sinks = []
            for run in runs:
                run.claim("bench")
                sink = EventSink(run, Publisher.get())
                sink.emit({"type": "status", "status": "running", "message": ""})
                sinks.append(sink)
            sent: dict[tuple[str, int], float] = {}
            gap = 1.0 / (args.rate * len(runs))
            for epoch in range(1, args.epochs + 1):
                for run, sink in zip(runs, sinks):
                    sink.emit({"type": "epoch", "epoch": epoch, "train_loss": 1 / epoch, "val_loss": 1.1 / epoch,
                               "train_acc": 1 - 0.5 / epoch, "val_acc": 1 - 0.6 / epoch, "seconds": 0.1})
                    sent[(run.public_id, epoch)] = time.time() * 1000
                    time.sleep(gap)
            for sink in sinks:
                sink.emit({"type": "status", "status": "succeeded", "message": ""})
                sink.close()
            page.wait_for_timeout(3000)
            drawn = page.evaluate("window.descentRoomStats.drawn")
            browser.close()
        # an epoch is on screen once that epoch or a later one of its run was painted
        paints: dict[str, list[tuple[int, float]]] = {}
        for d in drawn:
            paints.setdefault(d["run"], []).append((d["epoch"], d["t"]))
        lat = []
        for (run_id, epoch), t in sent.items():
            shown = [pt for ep, pt in paints.get(run_id, []) if ep >= epoch]
            if shown:
                lat.append(min(shown) - t)
        missing = len(sent) - len(lat)
        print(f"{args.students} students, {len(sent)} epoch events at {args.rate:g}/s a run: teacher page "
              f"event-to-screen p50 {percentile(lat, 0.5):.0f} ms, p95 {percentile(lat, 0.95):.0f} ms, "
              f"max {max(lat):.0f} ms; {missing} never shown")
    finally:
        app.stop()


if __name__ == "__main__":
    main()
