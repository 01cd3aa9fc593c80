import pytest

from webapp.runs.models import Event, Run

SPEC = {"data": {"dataset": "xor"}, "training": {"epochs": 3}}


@pytest.fixture
def run_of_a(client_a):
    r = client_a.post_json("/api/runs", {"spec": SPEC})
    assert r.status_code == 201, r.content
    return r.json()


def test_create_returns_id_urls_and_queued(run_of_a):
    assert run_of_a["status"] == "queued"
    assert run_of_a["url"] == f"/r/{run_of_a['id']}"
    assert run_of_a["ws"] == f"/ws/runs/{run_of_a['id']}/"
    assert len(run_of_a["id"]) >= 16  # unguessable


def test_get_shows_status_spec_and_queue_position(client_a, client_b, run_of_a):
    body = client_b.get(f"/api/runs/{run_of_a['id']}").json()
    assert body["status"] == "queued" and body["queue_position"] == 1
    assert body["spec"]["data"]["dataset"] == "xor"
    assert body["spec"]["optimizer"]["name"] == "adam"  # stored with its defaults filled in
    assert body["is_owner"] is False
    assert client_a.get(f"/api/runs/{run_of_a['id']}").json()["is_owner"] is True


def test_the_first_event_is_queued(client_b, run_of_a):
    body = client_b.get(f"/api/runs/{run_of_a['id']}/events?after=0").json()
    assert body["events"] == [{"seq": 1, "type": "status", "status": "queued", "message": "",
                               "queue_position": 1}]
    assert client_b.get(f"/api/runs/{run_of_a['id']}/events?after=1").json()["events"] == []


def test_events_after_returns_later_events_in_order(client_b, run_of_a):
    run = Run.objects.get(public_id=run_of_a["id"])
    for seq in range(2, 8):
        Event.objects.create(run=run, seq=seq, type="step", payload=f'{{"seq":{seq},"type":"step"}}')
    body = client_b.get(f"/api/runs/{run_of_a['id']}/events?after=4").json()
    assert [e["seq"] for e in body["events"]] == [5, 6, 7]
    assert body["last_seq"] == 7
    page = client_b.get(f"/api/runs/{run_of_a['id']}/events?after=0&limit=2").json()
    assert [e["seq"] for e in page["events"]] == [1, 2] and page["more"] is True
    assert client_b.get(f"/api/runs/{run_of_a['id']}/events?after=x").status_code == 400


def test_only_the_owner_may_cancel(client_a, client_b, run_of_a):
    assert client_b.post_json(f"/api/runs/{run_of_a['id']}/cancel").status_code == 403
    r = client_a.post_json(f"/api/runs/{run_of_a['id']}/cancel")
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    events = client_b.get(f"/api/runs/{run_of_a['id']}/events").json()["events"]
    assert events[-1]["status"] == "cancelled"
    assert client_a.post_json(f"/api/runs/{run_of_a['id']}/cancel").status_code == 409


def test_fork_makes_a_new_run_owned_by_the_caller(client_b, run_of_a):
    r = client_b.post_json(f"/api/runs/{run_of_a['id']}/fork")
    assert r.status_code == 201
    fork = r.json()
    assert fork["id"] != run_of_a["id"] and fork["parent"] == run_of_a["id"]
    detail = client_b.get(f"/api/runs/{fork['id']}").json()
    assert detail["is_owner"] is True and detail["spec"]["data"]["dataset"] == "xor"


def test_fork_with_an_edited_spec(client_b, run_of_a):
    r = client_b.post_json(f"/api/runs/{run_of_a['id']}/fork", {"spec": {**SPEC, "optimizer": {"name": "sgd"}}})
    assert r.status_code == 201
    assert client_b.get(f"/api/runs/{r.json()['id']}").json()["spec"]["optimizer"]["name"] == "sgd"


def test_invalid_spec_is_rejected_before_anything_is_queued(client_a):
    r = client_a.post_json("/api/runs", {"spec": {"data": {"dataset": "mnist"}}})
    assert r.status_code == 400 and r.json()["errors"][0]["path"] == "/data/dataset"
    assert Run.objects.count() == 0


def test_unknown_run_is_a_404(client_a):
    assert client_a.get("/api/runs/nope").status_code == 404
    assert client_a.get("/api/runs/nope/events").status_code == 404
    assert client_a.get("/r/nope").status_code == 404


def test_post_without_csrf_token_is_refused(db):
    from django.test import Client

    c = Client(enforce_csrf_checks=True)
    assert c.post("/api/runs", data="{}", content_type="application/json").status_code == 403


def test_active_runs_per_owner_are_limited(client_a, settings):
    settings.MAX_ACTIVE_RUNS_PER_OWNER = 2
    assert client_a.post_json("/api/runs", {"spec": SPEC}).status_code == 201
    assert client_a.post_json("/api/runs", {"spec": SPEC}).status_code == 201
    r = client_a.post_json("/api/runs", {"spec": SPEC})
    assert r.status_code == 429 and "2 runs" in r.json()["errors"][0]["message"]


def test_owner_may_delete_a_finished_run(client_a, client_b, run_of_a):
    assert client_a.delete_json(f"/api/runs/{run_of_a['id']}").status_code == 409  # still queued
    client_a.post_json(f"/api/runs/{run_of_a['id']}/cancel")
    assert client_b.delete_json(f"/api/runs/{run_of_a['id']}").status_code == 403
    assert client_a.delete_json(f"/api/runs/{run_of_a['id']}").status_code == 204
    assert not Run.objects.filter(public_id=run_of_a["id"]).exists()


def test_pages_set_the_csrf_cookie(db):
    from django.test import Client

    c = Client()
    r = c.get("/")
    assert r.status_code == 200 and "csrftoken" in r.cookies


def test_export_script_is_a_standalone_pytorch_script(client_b, run_of_a):
    r = client_b.get(f"/api/runs/{run_of_a['id']}/export/script")
    assert r.status_code == 200
    assert r["Content-Type"].startswith("text/x-python")
    text = r.content.decode()
    assert "import torch" in text
    imports = [line.split()[1] for line in text.splitlines() if line.lstrip().startswith(("import ", "from "))]
    assert not [m for m in imports if m.split(".")[0] in ("django", "training", "webapp")]  # standalone
    compile(text, "script.py", "exec")
    r = client_b.get(f"/api/runs/{run_of_a['id']}/export/script?download=1")
    assert r["Content-Disposition"].startswith("attachment")


# -- the typed protocol -------------------------------------------------------------------

def test_events_schema_serves_every_event_type_and_the_statuses(client_b):
    from training.events import STATUSES

    body = client_b.get("/api/events/schema").json()
    assert body["x-descent"]["statuses"] == list(STATUSES)
    assert "StatusEvent" in body["$defs"] and "StepBatch" in body["$defs"]


def test_pages_refuse_methods_they_do_not_take(client_a, run_of_a):
    assert client_a.post_json("/").status_code == 405
    assert client_a.post_json(f"/r/{run_of_a['id']}").status_code == 405


# -- queue, capacity, broker -------------------------------------------------------------

def test_broker_down_at_creation_is_a_503_and_leaves_nothing_queued(client_a, monkeypatch):
    from kombu.exceptions import OperationalError

    def refuse(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr("webapp.celery.app.send_task", refuse)
    r = client_a.post_json("/api/runs", {"spec": SPEC})
    assert r.status_code == 503 and "queue is unavailable" in r.json()["errors"][0]["message"]
    assert r["Retry-After"]
    assert not Run.objects.filter(status="queued").exists()


def test_created_runs_are_sent_to_the_broker_under_their_own_task_id(client_a, monkeypatch):
    sent = []
    monkeypatch.setattr("webapp.celery.app.send_task", lambda name, **kw: sent.append((name, kw)))
    body = client_a.post_json("/api/runs", {"spec": SPEC}).json()
    run = Run.objects.get(public_id=body["id"])
    assert sent == [("runs.train", {"args": [run.pk], "queue": "celery", "task_id": f"run-{run.public_id}",
                                    "retry": True, "retry_policy": sent[0][1]["retry_policy"]})]


def test_active_runs_per_ip_and_in_total_are_capped_with_retry_after(client_a, client_b, settings):
    settings.MAX_ACTIVE_RUNS_PER_IP = 2
    assert client_a.post_json("/api/runs", {"spec": SPEC}).status_code == 201
    assert client_b.post_json("/api/runs", {"spec": SPEC}).status_code == 201  # another cookie, same address
    r = client_b.post_json("/api/runs", {"spec": SPEC})
    assert r.status_code == 429 and "network address" in r.json()["errors"][0]["message"] and r["Retry-After"]
    settings.MAX_ACTIVE_RUNS_PER_IP, settings.MAX_QUEUED_RUNS = 100, 2
    r = client_b.post_json("/api/runs", {"spec": SPEC})
    assert r.status_code == 429 and "queue is full" in r.json()["errors"][0]["message"]


def test_cuda_without_a_gpu_worker_is_refused_at_creation(client_a):
    from webapp.runs.models import Worker

    Worker.objects.create(name="cpu-only@host", cuda=False)
    r = client_a.post_json("/api/runs", {"spec": {**SPEC, "training": {"epochs": 3, "device": "cuda"}}})
    assert r.status_code == 400 and r.json()["errors"][0]["path"] == "/training/device"
    Worker.objects.create(name="gpu@host", cuda=True)
    assert client_a.post_json("/api/runs", {"spec": {**SPEC, "training": {"epochs": 3, "device": "cuda"}}}).status_code == 201


def test_a_cuda_run_fails_after_a_bounded_wait_once_its_gpu_worker_is_gone(client_a, settings):
    from datetime import timedelta

    from django.utils import timezone

    from webapp.runs.models import Worker
    from webapp.runs.services import fail_stranded_gpu_runs, heal

    gpu = Worker.objects.create(name="gpu@host", cuda=True)
    cuda = client_a.post_json("/api/runs", {"spec": {**SPEC, "training": {"epochs": 3, "device": "cuda"}}}).json()["id"]
    cpu = client_a.post_json("/api/runs", {"spec": SPEC}).json()["id"]
    settings.GPU_WAIT_SECONDS = 60
    later = timezone.now() + timedelta(seconds=90)
    assert fail_stranded_gpu_runs() == []  # just queued, the GPU worker was seen now
    Worker.objects.filter(pk=gpu.pk).update(seen_at=timezone.now())
    assert fail_stranded_gpu_runs(now=later - timedelta(seconds=45)) == []  # gone only 45 s
    assert fail_stranded_gpu_runs(now=later) == [cuda]
    run = client_a.get(f"/api/runs/{cuda}").json()
    assert run["status"] == "failed" and "no GPU worker" in run["error"]
    assert Run.objects.get(public_id=cpu).status == "queued"  # the CPU run waits as before
    assert heal()["stranded"] == []


# -- runs whose worker is gone -------------------------------------------------------------

def _lose(run_id: str) -> Run:
    """The run was claimed by a worker that then died: running, heartbeat long ago."""
    from datetime import timedelta

    from django.utils import timezone

    run = Run.objects.get(public_id=run_id)
    assert run.claim("dead-worker@host")
    Run.objects.filter(pk=run.pk).update(heartbeat_at=timezone.now() - timedelta(minutes=5))
    run.refresh_from_db()
    return run


def test_a_run_whose_worker_is_gone_is_failed_when_touched_and_frees_its_slot(client_a, client_b, run_of_a, settings):
    settings.MAX_ACTIVE_RUNS_PER_OWNER = 1
    _lose(run_of_a["id"])
    body = client_b.get(f"/api/runs/{run_of_a['id']}").json()
    assert body["status"] == "failed" and "worker" in body["error"]
    events = client_b.get(f"/api/runs/{run_of_a['id']}/events").json()["events"]
    assert [e["seq"] for e in events] == [1, 2] and events[-1]["status"] == "failed"
    assert client_a.post_json("/api/runs", {"spec": SPEC}).status_code == 201  # the slot is free
    assert client_a.delete_json(f"/api/runs/{run_of_a['id']}").status_code == 204


def test_the_owner_can_cancel_a_run_whose_worker_is_gone(client_a, run_of_a):
    from webapp.runs import services

    run = _lose(run_of_a["id"])
    assert run.is_lost()
    assert services.cancel_run(run).status == "cancelled"  # not a stop flag nobody reads
    assert Event.objects.filter(run=run).count() == 2
    assert client_a.delete_json(f"/api/runs/{run_of_a['id']}").status_code == 204


def test_events_after_n_is_exact_with_compactly_stored_steps(client_b, run_of_a):
    from webapp.runs.sink import EventSink

    run = Run.objects.get(public_id=run_of_a["id"])
    sink = EventSink(run, None, interval=3600)
    for i in range(1, 11):  # seqs 2..11: the first alone, 3..11 in one row
        sink.emit({"type": "step", "step": i, "epoch": 1, "loss": 1.0 / i, "lr": 0.1})
    sink.emit({"type": "epoch", "epoch": 1, "train_loss": 0.1})
    sink.close()
    assert Event.objects.filter(run=run).count() == 4
    body = client_b.get(f"/api/runs/{run_of_a['id']}/events?after=6").json()
    first = body["events"][0]
    assert first["seqs"] == [7, 8, 9, 10, 11] and first["step"] == [6, 7, 8, 9, 10]
    assert body["events"][1]["seq"] == 12 and body["last_seq"] == 12
