"""Healing without a live stack: queued runs the broker lost are sent again, /healthz
reports its parts, and the worker's guard ends a run stuck past its time limit."""

from datetime import timedelta

import pytest
from django.utils import timezone

from webapp.runs import services
from webapp.runs.models import Event, Run, Worker

SPEC = {"data": {"dataset": "xor"}, "training": {"epochs": 3}}


def queued_run(age_seconds: float | None) -> Run:
    """A queued run handed to the broker ``age_seconds`` ago (None: never sent)."""
    sent = None if age_seconds is None else timezone.now() - timedelta(seconds=age_seconds)
    return Run.objects.create(spec={"training": {"device": "cpu"}}, owner_session="x", last_seq=1, sent_at=sent,
                              created=timezone.now() - timedelta(seconds=age_seconds or 60))


@pytest.mark.django_db
def test_queued_runs_missing_from_the_broker_are_sent_again(monkeypatch):
    held, lost, young, held_back = queued_run(60), queued_run(60), queued_run(1), queued_run(None)
    monkeypatch.setattr(services, "_broker_task_ids", lambda: {services.task_id(held)})
    sent = []
    monkeypatch.setattr(services, "send", lambda run, queue: sent.append((run.public_id, queue)))
    assert services.resend_lost_queued() == [lost.public_id]
    assert sent == [(lost.public_id, "celery")]  # the young one may still be on its way; the held one is there
    assert young.public_id not in services.resend_lost_queued()
    assert held_back.public_id not in services.resend_lost_queued()  # e.g. a sweep's waiting run


@pytest.mark.django_db(transaction=True)  # /healthz reads the database from a thread of its own
def test_healthz_needs_a_worker_seen_recently(client):
    r = client.get("/healthz")
    assert r.status_code == 503
    body = r.json()
    assert body["database"]["ok"] is True and body["worker"] == {"ok": False, "last_seen_seconds": None}
    Worker.objects.create(name="w@host")
    body = client.get("/healthz").json()
    assert body["ok"] is True and body["worker"]["ok"] is True, body
    Worker.objects.update(seen_at=timezone.now() - timedelta(minutes=5))
    assert client.get("/healthz").status_code == 503
    assert client.post("/healthz").status_code == 405


@pytest.mark.django_db(transaction=True)
def test_the_guard_writes_heartbeats_and_ends_a_run_stuck_past_its_limit(settings, monkeypatch):
    from webapp.runs import tasks

    settings.HEARTBEAT_INTERVAL, settings.WATCHDOG_GRACE = 0.05, 0.0
    exits = []
    monkeypatch.setattr(tasks.os, "_exit", lambda code: exits.append(code))
    run = Run.objects.create(spec={}, owner_session="x", last_seq=4)
    assert run.claim("w@host")
    Run.objects.filter(pk=run.pk).update(heartbeat_at=timezone.now() - timedelta(hours=1))
    guard = tasks.RunGuard(run, max_seconds=0.3)
    guard.start()
    guard.join(20)  # it stops by itself once it has ended the run
    run.refresh_from_db()
    assert run.status == "timed_out" and "time limit" in run.error
    assert run.heartbeat_at > timezone.now() - timedelta(minutes=1)  # it beat before it gave up
    assert exits == [tasks.WATCHDOG_EXIT_CODE]
    assert Event.objects.get(run=run, seq=5).data()["status"] == "timed_out"
