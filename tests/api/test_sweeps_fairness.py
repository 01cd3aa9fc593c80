"""A sweep's runs go to the broker a few at a time per owner, so others' runs are not starved."""

import pytest
from celery.signals import task_postrun

from webapp.runs.models import Run
from webapp.sweeps import services
from webapp.sweeps.models import SweepRun

BASE = {"data": {"dataset": "xor", "n_samples": 100}, "training": {"epochs": 2}}
AXES = [{"path": "/optimizer/lr", "log_uniform": [1e-3, 1.0], "count": 10}]


@pytest.fixture
def broker(monkeypatch):
    """What reaches the broker, in order (the world outside: no Redis in these tests)."""
    sent = []
    monkeypatch.setattr("webapp.runs.services.send", lambda run, queue: sent.append(run.pk))
    return sent


def _finish(run_pk, val_acc=0.9):
    Run.objects.filter(pk=run_pk).update(status="succeeded", summary={"val_acc": val_acc})


def test_only_the_per_owner_cap_reaches_the_broker(client_a, broker, settings, django_capture_on_commit_callbacks):
    settings.SWEEP_ACTIVE_PER_OWNER = 2
    with django_capture_on_commit_callbacks(execute=True):
        r = client_a.post_json("/api/sweeps", {"spec": BASE, "axes": AXES})
    assert r.status_code == 201 and len(r.json()["runs"]) == 10
    assert len(broker) == 2
    assert SweepRun.objects.filter(dispatched=False).count() == 8
    assert Run.objects.filter(status="queued").count() == 10  # all are ordinary queued runs


def test_another_visitors_run_goes_before_the_rest_of_the_sweep(client_a, client_b, broker, settings,
                                                               django_capture_on_commit_callbacks):
    settings.SWEEP_ACTIVE_PER_OWNER = 2
    with django_capture_on_commit_callbacks(execute=True):
        client_a.post_json("/api/sweeps", {"spec": BASE, "axes": AXES})
    with django_capture_on_commit_callbacks(execute=True):
        single = client_b.post_json("/api/runs", {"spec": BASE}).json()
    single_pk = Run.objects.get(public_id=single["id"]).pk
    assert broker.index(single_pk) == 2  # behind 2 sweep runs, not behind 10


def test_a_finished_run_releases_the_next_one(client_a, broker, settings, django_capture_on_commit_callbacks):
    settings.SWEEP_ACTIVE_PER_OWNER = 2
    with django_capture_on_commit_callbacks(execute=True):
        client_a.post_json("/api/sweeps", {"spec": BASE, "axes": AXES})
    first = broker[0]
    _finish(first)
    with django_capture_on_commit_callbacks(execute=True):
        # what the worker's Celery signal does after the train task returns
        task_postrun.send(sender=type("T", (), {"name": "runs.train"})(), args=[first])
    assert len(broker) == 3 and len(set(broker)) == 3
    member = SweepRun.objects.get(run_id=first)
    assert member.recorded and member.final == pytest.approx(0.9)


def test_releasing_twice_never_sends_a_run_twice(client_a, broker, settings, django_capture_on_commit_callbacks):
    settings.SWEEP_ACTIVE_PER_OWNER = 3
    with django_capture_on_commit_callbacks(execute=True):
        r = client_a.post_json("/api/sweeps", {"spec": BASE, "axes": AXES}).json()
    sweep = SweepRun.objects.first().sweep
    for _ in range(3):
        with django_capture_on_commit_callbacks(execute=True):
            services.release(sweep.owner_session)
    assert len(broker) == 3
    # the table's read is the fallback that releases when a hook was missed
    for pk in broker:
        _finish(pk)
    with django_capture_on_commit_callbacks(execute=True):
        client_a.get(f"/api/sweeps/{r['id']}")
    assert len(broker) == 6 and len(set(broker)) == 6


def test_a_cancelled_waiting_run_is_never_sent(client_a, broker, settings, django_capture_on_commit_callbacks):
    settings.SWEEP_ACTIVE_PER_OWNER = 1
    with django_capture_on_commit_callbacks(execute=True):
        r = client_a.post_json("/api/sweeps", {"spec": BASE, "axes": AXES}).json()
    client_a.post_json(f"/api/sweeps/{r['id']}/cancel")
    _finish(broker[0])
    with django_capture_on_commit_callbacks(execute=True):
        services.release(SweepRun.objects.first().sweep.owner_session)
    assert len(broker) == 1
