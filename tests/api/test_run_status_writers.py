"""Run.claim / finish / request_stop / heartbeat: each a conditional UPDATE, so of two
writers racing for the same transition exactly one wins."""

import pytest

from webapp.runs.models import Run

pytestmark = pytest.mark.django_db


def fresh() -> Run:
    return Run.objects.create(spec={}, owner_session="x")


def test_only_one_worker_claims_a_queued_run():
    run = fresh()
    other = Run.objects.get(pk=run.pk)  # a second worker's copy
    assert run.claim("a@host") is True
    assert other.claim("b@host") is False
    row = Run.objects.get(pk=run.pk)
    assert row.status == "running" and row.worker == "a@host" and row.heartbeat_at is not None


def test_the_first_ending_stands():
    run = fresh()
    run.claim("a@host")
    reaper = Run.objects.get(pk=run.pk)
    assert reaper.finish("failed", "the worker was lost") is True
    assert run.finish("succeeded", summary={"epochs_run": 3}) is False  # the worker came back too late
    row = Run.objects.get(pk=run.pk)
    assert row.status == "failed" and row.error == "the worker was lost" and row.summary is None
    with pytest.raises(ValueError):
        run.finish("running")


def test_stopping_a_queued_run_cancels_it_and_no_worker_can_claim_it_after():
    run = fresh()
    assert run.request_stop() == "cancelled"
    assert Run.objects.get(pk=run.pk).status == "cancelled"
    assert run.claim("a@host") is False


def test_stopping_a_running_run_sets_the_flag_its_trainer_polls():
    run = fresh()
    run.claim("a@host")
    assert run.request_stop() == "stopping"
    row = Run.objects.get(pk=run.pk)
    assert row.status == "running" and row.stop_requested


def test_heartbeat_reports_a_run_ended_elsewhere():
    run = fresh()
    run.claim("a@host")
    assert run.heartbeat() is True
    Run.objects.get(pk=run.pk).finish("failed", "lost")
    assert run.heartbeat() is False
