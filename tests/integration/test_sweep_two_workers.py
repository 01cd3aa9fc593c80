"""A sweep over real Redis on two worker processes: every run ends, both workers take part."""

import os
import socket
import sqlite3
import subprocess
import sys
import time

import pytest

from tests.live import Client
from webapp.serve import ROOT, worker_queues

pytestmark = pytest.mark.integration

SPEC = {"data": {"dataset": "xor", "n_samples": 200}, "training": {"epochs": 10, "batch_size": 16},
        "monitor": {"diagnostics": False, "boundary": False}}


@pytest.fixture
def second_worker(live_app):
    """One more Celery worker process on the same broker and database, under its own name."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "webapp", "worker", "-l", "warning", "-P", "solo", "-Q", worker_queues(),
         "--without-gossip", "--without-mingle", "-n", f"descent-second-{os.getpid()}@%h"],
        cwd=ROOT, env=live_app.env)
    # ready once this very worker answers a ping (after its imports and warm-up), not just any worker
    name = f"descent-second-{os.getpid()}@{socket.gethostname()}"
    code = (f"from webapp.celery import app; import sys; "
            f"sys.exit(0 if app.control.ping(destination=[{name!r}], timeout=1.0) else 1)")
    deadline = time.monotonic() + 240
    while subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=live_app.env,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode != 0:
        assert time.monotonic() < deadline and proc.poll() is None, "the second worker did not start"
        time.sleep(1)
    yield proc
    proc.terminate()  # idle by now: a warm shutdown has nothing to wait for
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


@pytest.mark.timeout(600)  # starts a second worker (imports torch) on a shared, busy machine
def test_a_sweep_finishes_on_two_workers(live_app, second_worker):
    client = Client(live_app.url)
    status, body = client.request("POST", "/api/sweeps", {
        "spec": SPEC, "method": "grid", "repeats": 2, "metric": "val_acc",
        "axes": [{"path": "/optimizer/lr", "values": [0.003, 0.03, 0.3]}]})
    assert status == 201, body
    sweep_id, run_ids = body["id"], [r["id"] for r in body["runs"]]
    deadline = time.monotonic() + 240
    table = None
    while time.monotonic() < deadline:
        status, table = client.request("GET", f"/api/sweeps/{sweep_id}")
        assert status == 200
        if table["done"]:
            break
        time.sleep(1)
    assert table and table["done"], f"the sweep did not finish: {table and table['counts']}"
    assert table["counts"] == {"succeeded": 6}
    assert all(p["mean"] is not None and p["n"] == 2 for p in table["points"])
    assert table["best"] in run_ids and len(table["top"]) == 5
    db = sqlite3.connect(live_app.var / "live.sqlite3")
    marks = ",".join("?" * len(run_ids))
    workers = {w for (w,) in db.execute(f"SELECT worker FROM runs_run WHERE public_id IN ({marks})", run_ids)}
    db.close()
    assert len(workers) == 2, workers  # the runs spread over both worker processes
