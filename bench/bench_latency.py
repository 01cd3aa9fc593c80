"""Time from POST /api/runs to the first `step` event on the websocket, warm worker.

Starts the whole application (embedded Redis, one Celery worker, daphne) like the
integration tests, warms the worker with one run, then measures N runs one after the
other; prints the median and p90 against the 300 ms target, with the breakdown
(POST answered, first event received, `running` received, first step).

    python bench/bench_latency.py --runs 20
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from websockets.sync.client import connect  # noqa: E402

from tests.live import Client, LiveApp  # noqa: E402

SPEC = {"data": {"dataset": "circle", "n_samples": 200}, "training": {"epochs": 2}}


def one(app: LiveApp, client: Client) -> dict:
    ws_base = app.url.replace("http://", "ws://")
    t0 = time.perf_counter()
    status, body = client.request("POST", "/api/runs", {"spec": SPEC})
    assert status == 201, body
    t_post = time.perf_counter()
    marks = {"post": t_post - t0}
    with connect(ws_base + body["ws"], origin=app.url) as ws:
        while True:
            msg = json.loads(ws.recv(timeout=30))
            now = time.perf_counter() - t0
            marks.setdefault("first_message", now)
            if msg["type"] == "status" and msg["status"] == "running":
                marks.setdefault("running", now)
            if msg["type"] == "step":
                marks["first_step"] = now
                break
        while True:  # let it finish so the next run finds the worker idle
            msg = json.loads(ws.recv(timeout=60))
            if msg["type"] == "status" and msg["status"] not in ("queued", "running"):
                break
    return marks


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=20)
    args = ap.parse_args()
    app = LiveApp().start()
    try:
        client = Client(app.url)
        one(app, client)  # warm: torch imported, first run's lazy imports done
        rows = [one(app, client) for _ in range(args.runs)]
    finally:
        app.stop()
    first = sorted(r["first_step"] * 1000 for r in rows)
    med = statistics.median(first)
    p90 = first[int(0.9 * (len(first) - 1))]
    print(f"runs={args.runs} (warm worker, embedded Redis, SQLite, daphne)")
    for key in ("post", "first_message", "running", "first_step"):
        vals = [r[key] * 1000 for r in rows if key in r]
        print(f"  {key:<14} median {statistics.median(vals):7.1f} ms")
    print(f"  POST -> first step: median {med:.1f} ms, p90 {p90:.1f} ms; "
          f"median / 300 ms target = {med / 300:.2f} (<= 1 meets it)")


if __name__ == "__main__":
    main()
