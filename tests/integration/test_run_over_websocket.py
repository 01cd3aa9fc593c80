"""A real Redis, a real Celery worker and daphne: POST a run, watch it over the websocket."""

import json
import time

import pytest
from websockets.sync.client import connect

from tests.live import Client

pytestmark = pytest.mark.integration

SPEC = {"data": {"dataset": "xor", "n_samples": 300}, "training": {"epochs": 8, "batch_size": 32}}


def ws_url(app, path: str) -> str:
    return app.url.replace("http://", "ws://") + path


def collect(app, path: str, until_status=("succeeded", "failed", "cancelled", "diverged", "timed_out"),
            timeout: float = 90) -> list[dict]:
    """Every event over the websocket until the run ends; coalesced steps expanded."""
    events: list[dict] = []
    with connect(ws_url(app, path), origin=app.url, open_timeout=10) as ws:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            msg = json.loads(ws.recv(timeout=deadline - time.monotonic()))
            if msg["type"] == "step" and "seqs" in msg:
                for i, seq in enumerate(msg["seqs"]):
                    events.append({"type": "step", "seq": seq, "step": msg["step"][i], "loss": msg["loss"][i]})
            elif "seq" in msg:
                events.append(msg)
            if msg["type"] == "status" and msg["status"] in until_status:
                return events
    raise AssertionError(f"the run did not end in {timeout}s; got {len(events)} events")


def test_posted_run_streams_every_event_and_succeeds(live_app):
    client = Client(live_app.url)
    status, body = client.request("POST", "/api/runs", {"spec": SPEC})
    assert status == 201, body
    events = collect(live_app, body["ws"])
    seqs = [e["seq"] for e in events]
    assert seqs == list(range(1, len(seqs) + 1)), "seq must be contiguous from 1, without duplicates"
    kinds = {e["type"] for e in events}
    assert {"status", "dataset", "step", "epoch", "boundary", "summary"} <= kinds
    assert events[-1]["status"] == "succeeded"
    status, run = client.request("GET", f"/api/runs/{body['id']}")
    assert run["status"] == "succeeded" and run["summary"]["epochs_run"] == 8
    # the persisted events are exactly what was streamed (steps stored a flush to a row)
    status, persisted = client.request("GET", f"/api/runs/{body['id']}/events?after=0")
    assert [s for e in persisted["events"] for s in e.get("seqs", [e["seq"]])] == seqs


def test_late_viewer_resumes_without_gap_or_duplicate(live_app):
    client = Client(live_app.url)
    status, body = client.request("POST", "/api/runs", {"spec": {**SPEC, "training": {"epochs": 30}}})
    assert status == 201
    full = collect(live_app, body["ws"])
    # a second viewer that already has the first 25 events asks only for the rest
    rest = collect(live_app, body["ws"] + "?after=25")
    assert [e["seq"] for e in rest] == [e["seq"] for e in full if e["seq"] > 25]


def test_stop_ends_a_running_run_cancelled(live_app):
    client = Client(live_app.url)
    spec = {"data": {"dataset": "spiral", "n_samples": 2000}, "training": {"epochs": 500, "batch_size": 8}}
    status, body = client.request("POST", "/api/runs", {"spec": spec})
    assert status == 201
    with connect(ws_url(live_app, body["ws"]), origin=live_app.url) as ws:
        while json.loads(ws.recv(timeout=60))["type"] != "step":
            pass
    status, _ = client.request("POST", f"/api/runs/{body['id']}/cancel", {})
    assert status == 200
    events = collect(live_app, body["ws"], timeout=30)
    assert events[-1]["status"] == "cancelled"
    other = Client(live_app.url)
    assert other.request("POST", f"/api/runs/{body['id']}/cancel", {})[0] == 403


def test_the_worker_trains_at_a_lower_priority_than_the_web_server(live_app):
    """DESCENT_WORKER_NICE (5): training yields the CPU to daphne, which fans events out."""
    import os

    live_app.wait_worker()
    worker, web = live_app.procs[1], live_app.procs[2]
    assert os.getpriority(os.PRIO_PROCESS, worker.pid) == os.getpriority(os.PRIO_PROCESS, web.pid) + 5
