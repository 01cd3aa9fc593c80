"""GET /api/runs for the /runs page, and the /runs, /compare and /lessons pages."""

import pytest

from webapp.compare.listing import best_val, model_summary
from webapp.runs.models import Run

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_broker(monkeypatch):
    import webapp.runs.services as services

    if hasattr(services, "_enqueue"):
        monkeypatch.setattr(services, "_enqueue", lambda *a, **k: None)


def test_list_has_model_summary_and_best_val_metric_newest_first(client_a):
    first = client_a.post_json("/api/runs", {"spec": {"name": "first", "data": {"dataset": "xor"},
                                                      "model": {"layers": [{"type": "dense", "units": 16}] * 3}}})
    client_a.post_json("/api/runs", {"spec": {"name": "second", "data": {"dataset": "poly1d"}}})
    Run.objects.filter(public_id=first.json()["id"]).update(
        status="succeeded", summary={"val_acc": 0.93, "val_loss": 0.2, "best_epoch": 7, "params": 610})
    rows = client_a.get("/api/runs").json()["runs"]
    assert [r["name"] for r in rows] == ["second", "first"]
    old = rows[1]
    assert old["dataset"] == "xor" and old["model"] == "3 × dense 16 relu"
    assert old["best_val"] == {"name": "val accuracy", "key": "val_acc", "value": 0.93, "goal": "max", "epoch": 7}
    assert old["params"] == 610 and old["status"] == "succeeded"
    assert rows[0]["best_val"] is None and rows[0]["dataset"] == "poly1d"


def test_list_shows_only_the_callers_runs(client_a, client_b):
    client_a.post_json("/api/runs", {"spec": {"name": "mine"}})
    assert client_b.get("/api/runs").json()["runs"] == []


def test_list_carries_the_lesson_of_a_run(client_a):
    client_a.post_json("/api/runs", {"spec": {"lesson": "gradient-clipping"}})
    assert client_a.get("/api/runs").json()["runs"][0]["lesson"] == "gradient-clipping"


def test_model_summary_folds_repeats_and_names_layers():
    spec = {"model": {"layers": [{"type": "conv2d", "filters": 8, "kernel": 3}, {"type": "maxpool2d"},
                                 {"type": "flatten"}, {"type": "dense", "units": 32, "activation": "tanh"},
                                 {"type": "dropout", "p": 0.2}]}}
    assert model_summary(spec) == "conv 8×3 → maxpool2d → flatten → dense 32 tanh → dropout 0.2"
    assert model_summary({}) == "dense 8 relu → dense 8 relu"
    assert model_summary({"model": {"layers": []}}) == "linear (no hidden layer)"


def test_best_val_prefers_accuracy_then_r2_then_loss():
    assert best_val({"val_r2": 0.8, "val_loss": 1.0})["name"] == "val R²"
    assert best_val({"val_loss": 1.0})["goal"] == "min"
    assert best_val(None) is None and best_val({"train_acc": 1.0}) is None


@pytest.mark.parametrize("path, h1", [("/runs", "My runs"), ("/compare?runs=a,b", "Compare runs"),
                                      ("/lessons", "Lessons")])
def test_pages_render_with_one_h1(client_a, path, h1):
    res = client_a.get(path)
    assert res.status_code == 200
    html = res.content.decode()
    assert html.count("<h1") == 1 and h1 in html and "csrftoken" in res.cookies


def test_pages_refuse_post(client_a):
    assert client_a.post("/runs").status_code in (403, 405)
    assert client_a.post_json("/lessons", {}).status_code == 405


def test_lesson_slug_must_be_a_slug(client_a):
    res = client_a.post_json("/api/runs", {"spec": {"lesson": "Not A Slug!"}})
    assert res.status_code == 400 and res.json()["errors"][0]["path"] == "/lesson"
