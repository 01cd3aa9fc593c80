"""Failures healed on the real stack: `python -m webapp.serve` (the supervisor) with its
embedded Redis, a real Celery worker and daphne. A worker SIGKILLed, Redis killed and
restarted, a run past its time limit inside a landscape, Ctrl-C with a run active.

Measured times go to artifacts/fault_times.json (and are printed with -s).
"""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import pytest
from websockets.sync.client import connect

from tests.live import Client, Launcher

pytestmark = pytest.mark.integration

LONG = {"data": {"dataset": "spiral", "n_samples": 2000}, "training": {"epochs": 2000, "batch_size": 8},
        "monitor": {"boundary": False, "diagnostics": False}}
FINAL = ("succeeded", "failed", "cancelled", "diverged", "timed_out")
TIMES: dict[str, float] = {}


def record(name: str, seconds: float) -> None:
    TIMES[name] = round(seconds, 2)
    print(f"\n{name}: {seconds:.2f} s")
    out = Path(__file__).resolve().parents[2] / "artifacts" / "fault_times.json"
    out.parent.mkdir(exist_ok=True)
    old = json.loads(out.read_text()) if out.exists() else {}
    out.write_text(json.dumps({**old, **TIMES}, indent=1))


@pytest.fixture(scope="module")
def stack():
    app = Launcher(DESCENT_MAX_ACTIVE_RUNS="1").start(timeout=180)
    yield app
    app.stop()


def wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.25)
    raise AssertionError(f"{what}: not within {timeout:.0f}s")


def run_state(client: Client, run_id: str) -> dict:
    return client.request("GET", f"/api/runs/{run_id}")[1]


def all_seqs(client: Client, run_id: str) -> tuple[list[int], list[dict]]:
    """Every persisted seq (coalesced step rows expanded) and the non-step events."""
    seqs, others, after = [], [], 0
    while True:
        body = client.request("GET", f"/api/runs/{run_id}/events?after={after}")[1]
        for e in body["events"]:
            seqs.extend(e["seqs"] if "seqs" in e else [e["seq"]])
            if e["type"] != "step":
                others.append(e)
        after = body["last_seq"]
        if not body["more"]:
            return seqs, others


def start_long_run(client: Client, spec: dict = LONG) -> str:
    status, body = client.request("POST", "/api/runs", {"spec": spec})
    assert status == 201, body
    wait_for(lambda: run_state(client, body["id"])["last_seq"] > 5, 120, "the run's first steps")
    return body["id"]


def ws_url(app, path: str) -> str:
    return app.url.replace("http://", "ws://") + path


def test_idle_websocket_is_kept_open_and_answers_a_ping_after_30_seconds(stack):
    client = Client(stack.url)
    run_id = start_long_run(client)
    client.request("POST", f"/api/runs/{run_id}/cancel", {})
    wait_for(lambda: run_state(client, run_id)["status"] == "cancelled", 30, "cancel")
    with connect(ws_url(stack, f"/ws/runs/{run_id}/"), origin=stack.url, open_timeout=10) as ws:
        while json.loads(ws.recv(timeout=10))["type"] != "live":
            pass
        time.sleep(30)  # nothing arrives for 30 s: the channel layer's read must not time out
        ws.send(json.dumps({"type": "ping"}))
        assert json.loads(ws.recv(timeout=10))["type"] == "pong"


def test_a_sigkilled_worker_fails_its_run_keeps_its_events_and_frees_the_slot(stack):
    client = Client(stack.url)
    run_id = start_long_run(client)
    worker = stack.child("celery")
    t0 = time.monotonic()
    os.kill(worker, signal.SIGKILL)
    state = wait_for(lambda: (s := run_state(client, run_id))["status"] in FINAL and s, 60, "the run to end")
    record("worker_sigkill_to_failed", time.monotonic() - t0)
    assert state["status"] == "failed" and "worker" in state["error"] and "lost" in state["error"]
    seqs, others = all_seqs(client, run_id)
    assert seqs == list(range(1, len(seqs) + 1)), "seqs contiguous from 1, nothing lost, no duplicate"
    assert others[-1]["type"] == "status" and others[-1]["status"] == "failed"
    # the owner's single slot (DESCENT_MAX_ACTIVE_RUNS=1) is free, and a new worker takes the next run
    stack.wait_worker(60)
    t1 = time.monotonic()
    next_id = start_long_run(client)
    record("next_run_running_after_restart", time.monotonic() - t1)
    client.request("POST", f"/api/runs/{next_id}/cancel", {})
    wait_for(lambda: run_state(client, next_id)["status"] == "cancelled", 30, "cancel")


def test_redis_killed_and_restarted_mid_run_the_run_finishes_and_a_viewer_catches_up(stack):
    client = Client(stack.url)
    spec = {**LONG, "training": {**LONG["training"], "max_seconds": 15}}
    run_id = start_long_run(client, spec)
    seen: list[int] = []
    final = None
    reconnects = 0
    killed = False
    t_restart = None
    deadline = time.monotonic() + 60
    while final is None and time.monotonic() < deadline:
        after = seen[-1] if seen else 0
        try:
            with connect(ws_url(stack, f"/ws/runs/{run_id}/?after={after}"), origin=stack.url, open_timeout=5) as ws:
                while True:
                    msg = json.loads(ws.recv(timeout=20))
                    if "seq" not in msg:
                        continue
                    seen.extend(msg["seqs"] if "seqs" in msg else [msg["seq"]])
                    if msg["type"] == "status" and msg["status"] in FINAL:
                        final = msg
                        break
                    if not killed and len(seen) > 50:
                        killed = True
                        redis = stack.child("redis-server")
                        os.kill(redis, signal.SIGKILL)
                        t_restart = time.monotonic()
        except Exception:
            reconnects += 1
            time.sleep(0.5)
    assert killed and final is not None, f"the run did not finish: {stack.output()}"
    record("redis_restart_to_final_status_seen", time.monotonic() - t_restart)
    assert final["status"] == "timed_out"
    assert seen == list(range(1, len(seen) + 1)), "the viewer has every seq once, in order"
    assert all_seqs(client, run_id)[0] == seen
    print(f"viewer reconnects: {reconnects}")


def test_max_seconds_during_a_landscape_ends_timed_out_with_the_data_kept(stack):
    client = Client(stack.url)
    spec = {"data": {"dataset": "digits"}, "training": {"epochs": 2, "batch_size": 64, "max_seconds": 8},
            "model": {"layers": [{"type": "dense", "units": 256, "activation": "relu"}] * 3},
            "monitor": {"landscape": {"mode": "2d", "resolution": 51, "trajectory": True, "when": "end"}}}
    status, body = client.request("POST", "/api/runs", {"spec": spec})
    assert status == 201, body
    t0 = time.monotonic()
    state = wait_for(lambda: (s := run_state(client, body["id"]))["status"] in FINAL and s, 60, "the run to end")
    record("landscape_max_seconds_8_to_final", time.monotonic() - t0)
    assert state["status"] == "timed_out", state
    assert "landscape" in state["error"]
    _, others = all_seqs(client, body["id"])
    kinds = [e["type"] for e in others]
    assert "epoch" in kinds and "summary" in kinds  # the training's results are kept
    assert state["summary"]["epochs_run"] == 2


def test_broker_down_at_creation_is_a_503_and_queued_runs_lost_with_redis_are_sent_again(stack):
    owner, waiting, late = Client(stack.url), Client(stack.url), Client(stack.url)
    busy = start_long_run(owner)  # the only worker is busy: the next run waits in the broker
    status, queued = waiting.request("POST", "/api/runs", {"spec": LONG})
    assert status == 201
    # Redis dies and stays down (the launcher is paused, so it cannot restart it yet)
    os.kill(stack.proc.pid, signal.SIGSTOP)
    try:
        os.kill(stack.child("redis-server"), signal.SIGKILL)
        time.sleep(0.5)
        t0 = time.monotonic()
        status, body = late.request("POST", "/api/runs", {"spec": LONG})
        record("broker_down_post_answer", time.monotonic() - t0)
        assert status == 503 and "queue is unavailable" in body["errors"][0]["message"], body
        assert late.request("GET", "/api/runs")[1]["runs"] == []  # nothing left queued
        status, health = late.request("GET", "/healthz")
        assert status == 503 and health["redis"]["ok"] is False and health["database"]["ok"] is True
    finally:
        os.kill(stack.proc.pid, signal.SIGCONT)  # the launcher restarts Redis: empty, the queued message is gone
    owner.request("POST", f"/api/runs/{busy}/cancel", {})
    t1 = time.monotonic()
    wait_for(lambda: run_state(waiting, queued["id"])["last_seq"] > 5, 90, "the lost queued run to be sent again")
    record("lost_queued_run_resent_and_running", time.monotonic() - t1)
    waiting.request("POST", f"/api/runs/{queued['id']}/cancel", {})
    wait_for(lambda: run_state(waiting, queued["id"])["status"] == "cancelled", 30, "cancel")


def test_ctrl_c_on_the_launcher_ends_an_active_run_cancelled(stack):
    client = Client(stack.url)
    run_id = start_long_run(client)
    t0 = time.monotonic()
    stack.proc.send_signal(signal.SIGINT)
    stack.proc.wait(60)
    record("ctrl_c_to_launcher_exit", time.monotonic() - t0)
    # the database as the next start finds it
    import sqlite3

    db = sqlite3.connect(stack.var / "live.sqlite3")
    status, error = db.execute("SELECT status, error FROM runs_run WHERE public_id = ?", (run_id,)).fetchone()
    assert status == "cancelled", (status, error, stack.output())
    assert db.execute("SELECT count(*) FROM runs_run WHERE status IN ('queued', 'running')").fetchone()[0] == 0
    last = db.execute("SELECT payload FROM runs_event e JOIN runs_run r ON e.run_id = r.id "
                      "WHERE r.public_id = ? ORDER BY seq DESC LIMIT 1", (run_id,)).fetchone()[0]
    assert json.loads(last)["status"] == "cancelled"
