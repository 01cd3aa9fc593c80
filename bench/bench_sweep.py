"""A sweep's wall time on one and on two Celery worker processes, side by side in one run.

Real Redis, real workers, daphne and SQLite (tests/live.py). The same 16-run sweep runs
first with one worker, then again after a second worker process joins; the ratio is the
speed-up from spreading a sweep's runs over workers (ideal: 2 on a machine with 2 free
cores; less on a busy one).

    .venv/bin/python bench/bench_sweep.py [--runs 16] [--epochs 30]
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

from tests.live import Client, LiveApp  # noqa: E402
from webapp.serve import worker_queues  # noqa: E402


def sweep(client: Client, runs: int, epochs: int, seed: int) -> float:
    body = {"spec": {"seed": seed, "data": {"dataset": "moons", "n_samples": 400},
                     "model": {"layers": [{"type": "dense", "units": 32, "activation": "relu"}] * 2},
                     "training": {"epochs": epochs, "batch_size": 16},
                     "monitor": {"diagnostics": False, "boundary": False}},
            "axes": [{"path": "/optimizer/lr", "log_uniform": [1e-3, 0.1], "count": runs}], "metric": "val_acc"}
    t0 = time.perf_counter()
    status, created = client.request("POST", "/api/sweeps", body)
    assert status == 201, created
    while True:
        status, table = client.request("GET", f"/api/sweeps/{created['id']}")
        if table["done"]:
            assert table["counts"] == {"succeeded": runs}, table["counts"]
            return time.perf_counter() - t0
        time.sleep(0.25)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=16)
    ap.add_argument("--epochs", type=int, default=30)
    args = ap.parse_args()
    os.environ.setdefault("DESCENT_SWEEP_ACTIVE_PER_OWNER", "4")
    app = LiveApp().start()
    second = None
    try:
        client = Client(app.url)
        sweep(client, 2, 2, seed=99)  # warm-up: imports, first connections
        one = sweep(client, args.runs, args.epochs, seed=0)
        second = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "webapp", "worker", "-l", "warning", "-P", "solo", "-Q", worker_queues(),
             "--without-gossip", "--without-mingle", "-n", f"descent-bench2-{os.getpid()}@%h"], cwd=ROOT, env=app.env)
        time.sleep(8)  # the second worker imports torch and starts consuming
        sweep(client, 2, 2, seed=98)
        two = sweep(client, args.runs, args.epochs, seed=0)
        print(f"{args.runs}-run sweep ({args.epochs} epochs each): 1 worker {one:.1f} s, 2 workers {two:.1f} s, "
              f"speed-up x{one / two:.2f} (ideal x2.00; cores: {os.cpu_count()}, load {os.getloadavg()[0]:.1f})")
    finally:
        if second is not None:
            second.terminate()
            second.wait(15)
        app.stop()


if __name__ == "__main__":
    main()
