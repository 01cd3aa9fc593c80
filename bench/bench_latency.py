"""Time from POST /api/runs to the first `step` event on the websocket: cold and warm.

Starts the whole application (embedded Redis, one Celery worker, daphne) like the
integration tests. "cold" is the first run after a fresh worker start (the worker has
answered a ping, the machine is otherwise idle), measured twice, side by side: with the
worker's start-up warm-up turned off (DESCENT_WARMUP=0, a separate fresh application) and
with it on (the default, webapp/runs/warmup.py); target: first step within 1 s of the
POST. "warm" are the N runs after that, one after the other, against the 300 ms target,
with the breakdown (POST answered, first event received, `running` received, first step).

    python bench/bench_latency.py --runs 20 [--cold-spec digits]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from websockets.sync.client import connect  # noqa: E402

from tests.live import Client, LiveApp  # noqa: E402

SPEC = {"data": {"dataset": "circle", "n_samples": 200}, "training": {"epochs": 2}}
# a first run that needs more of the engine: images, convolutions, batch norm
DIGITS = {"data": {"dataset": "digits"}, "training": {"epochs": 1},
          "model": {"layers": [{"type": "conv2d", "filters": 8}, {"type": "batchnorm"}, {"type": "maxpool2d"},
                               {"type": "dense", "units": 32}]}}


def cold(warmup: bool, spec: dict) -> dict:
    """The first run of a freshly started application (worker idle, after its warm-up if on)."""
    os.environ["DESCENT_WARMUP"] = "1" if warmup else "0"
    t0 = time.perf_counter()
    app = LiveApp().start()
    started = time.perf_counter() - t0
    try:
        marks = one(app, Client(app.url), spec)
    finally:
        app.stop()
        os.environ.pop("DESCENT_WARMUP", None)
    marks["start"] = started
    return marks


def one(app: LiveApp, client: Client, spec: dict = SPEC) -> dict:
    ws_base = app.url.replace("http://", "ws://")
    t0 = time.perf_counter()
    status, body = client.request("POST", "/api/runs", {"spec": spec})
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
    ap.add_argument("--cold-spec", choices=("circle", "digits"), default="circle")
    args = ap.parse_args()
    print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    cold_spec = DIGITS if args.cold_spec == "digits" else SPEC
    cold_off = cold(False, cold_spec)
    cold_on = cold(True, cold_spec)
    print(f"cold: first run after a fresh worker start ({args.cold_spec}; worker idle, machine otherwise idle)")
    for label, marks in (("no warm-up", cold_off), ("warm-up", cold_on)):
        print(f"  {label:<11} POST -> first step {marks['first_step'] * 1000:7.1f} ms "
              f"(POST answered {marks['post'] * 1000:.1f} ms, running {marks['running'] * 1000:.1f} ms; "
              f"app ready after {marks['start']:.1f} s); "
              f"/ 1000 ms target = {marks['first_step']:.2f} (<= 1 meets it)")
    print(f"  ratio no warm-up / warm-up = {cold_off['first_step'] / cold_on['first_step']:.2f}")
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
