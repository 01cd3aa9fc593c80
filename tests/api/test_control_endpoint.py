"""POST /api/runs/<id>/control: who may steer a run, when, and with what values."""

import pytest

from training.control import ScriptedControls
from training.loop import ListSink, train
from training.spec import validate
from webapp.controls.models import ControlCommand
from webapp.controls.services import take_pending
from webapp.runs.models import Run

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_broker(monkeypatch):
    import webapp.runs.services as services

    if hasattr(services, "_enqueue"):
        monkeypatch.setattr(services, "_enqueue", lambda *a, **k: None)


def _running_run(client, spec=None):
    res = client.post_json("/api/runs", {"spec": spec or {"training": {"epochs": 2}}})
    assert res.status_code == 201, res.content
    run = Run.objects.get(public_id=res.json()["id"])
    Run.objects.filter(pk=run.pk).update(status="running")
    return run.public_id


def test_owner_pauses_and_the_command_waits_for_the_worker(client_a):
    rid = _running_run(client_a)
    res = client_a.post_json(f"/api/runs/{rid}/control", {"action": "pause"})
    assert res.status_code == 202 and res.json()["command"] == {"action": "pause"}
    run = Run.objects.get(public_id=rid)
    assert take_pending(run.pk) == [{"action": "pause"}]
    assert take_pending(run.pk) == []  # handed out once


def test_commands_reach_the_worker_in_order(client_a):
    rid = _running_run(client_a)
    for body in ({"action": "pause"}, {"action": "step", "steps": 5}, {"action": "set", "lr": 0.003}):
        assert client_a.post_json(f"/api/runs/{rid}/control", body).status_code == 202
    run = Run.objects.get(public_id=rid)
    assert take_pending(run.pk) == [{"action": "pause"}, {"action": "step", "steps": 5},
                                    {"action": "set", "lr": 0.003}]


def test_someone_else_gets_403(client_a, client_b):
    rid = _running_run(client_a)
    res = client_b.post_json(f"/api/runs/{rid}/control", {"action": "pause"})
    assert res.status_code == 403 and res.json()["errors"][0]["message"]
    assert not ControlCommand.objects.exists()


@pytest.mark.parametrize("status", ["queued", "succeeded", "cancelled", "failed"])
def test_a_run_that_is_not_running_gets_409(client_a, status):
    rid = _running_run(client_a)
    Run.objects.filter(public_id=rid).update(status=status)
    res = client_a.post_json(f"/api/runs/{rid}/control", {"action": "pause"})
    assert res.status_code == 409 and status in res.json()["errors"][0]["message"]


@pytest.mark.parametrize("body, path", [
    ({"action": "faster"}, "/action"),
    ({}, "/action"),
    ({"action": "step", "steps": 0}, "/steps"),
    ({"action": "step", "steps": "5"}, "/steps"),
    ({"action": "set", "lr": 0}, "/lr"),
    ({"action": "set", "lr": -0.1}, "/lr"),
    ({"action": "set", "lr": 1e400}, "/lr"),
    ({"action": "set", "lr": None}, "/lr"),
    ({"action": "set"}, "/lr"),
    ({"action": "set", "weight_decay": -1}, "/weight_decay"),
    ({"action": "pause", "lr": 0.1}, "/lr"),
])
def test_bad_values_get_400_naming_the_field(client_a, body, path):
    rid = _running_run(client_a)
    res = client_a.post_json(f"/api/runs/{rid}/control", body)
    assert res.status_code == 400, res.content
    assert res.json()["errors"][0]["path"] == path


def test_not_json_and_unknown_run(client_a):
    rid = _running_run(client_a)
    assert client_a.post_json(f"/api/runs/{rid}/control", raw="{nope").status_code == 400
    assert client_a.post_json(f"/api/runs/{rid}/control", raw="[1]").status_code == 400
    assert client_a.post_json("/api/runs/nosuchrun/control", {"action": "pause"}).status_code == 404
    assert client_a.get(f"/api/runs/{rid}/control").status_code == 405


def test_weight_decay_accepted_for_adamw(client_a):
    rid = _running_run(client_a, {"optimizer": {"name": "adamw"}, "training": {"epochs": 2}})
    res = client_a.post_json(f"/api/runs/{rid}/control", {"action": "set", "weight_decay": 0.1})
    assert res.status_code == 202


def test_too_many_waiting_commands_get_429(client_a):
    rid = _running_run(client_a)
    for _ in range(50):
        client_a.post_json(f"/api/runs/{rid}/control", {"action": "resume"})
    assert client_a.post_json(f"/api/runs/{rid}/control", {"action": "resume"}).status_code == 429


def test_pause_step_resume_sent_through_the_api_count_steps_exactly(client_a):
    """The database path end to end: rows written by the API, taken by a sink, applied."""
    rid = _running_run(client_a)
    run = Run.objects.get(public_id=rid)

    class DbSink(ScriptedControls, ListSink):
        # the script posts through the API at the given step; the trainer reads the DB
        def poll_controls(self):
            for body in super().poll_controls():
                assert client_a.post_json(f"/api/runs/{rid}/control", body).status_code == 202
            return take_pending(run.pk)

    sink = DbSink()
    sink.set_script([(6, {"action": "pause"}), (6, {"action": "step", "steps": 5}), (11, {"action": "resume"})])
    spec = validate({"data": {"dataset": "xor", "n_samples": 200}, "training": {"epochs": 2, "batch_size": 20},
                     "monitor": {"diagnostics": False, "boundary": False, "neurons": False}})
    assert train(spec, sink) == "succeeded"
    c = sink.of("control")
    assert [(e["action"], e["step"]) for e in c] == [("pause", 6), ("step", 6), ("pause", 11), ("resume", 11)]


def test_an_lr_range_test_cannot_be_steered(client_a):
    rid = _running_run(client_a, {"mode": "lr_finder"})
    res = client_a.post_json(f"/api/runs/{rid}/control", {"action": "pause"})
    assert res.status_code == 409 and "LR range test" in res.json()["errors"][0]["message"]
