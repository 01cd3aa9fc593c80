"""GET /api/sweeps/<id> (mean ± std over repeats, best, top 5), cancel-all, CSV."""

import csv
import io
import json

import pytest

from webapp.runs.models import Event, Run

BASE = {"data": {"dataset": "xor", "n_samples": 100}, "training": {"epochs": 2}}


@pytest.fixture
def sweep(client_a):
    r = client_a.post_json("/api/sweeps", {"spec": BASE, "repeats": 2, "metric": "val_acc",
                                           "axes": [{"path": "/optimizer/lr", "values": [0.1, 0.01, 0.001]}]})
    assert r.status_code == 201, r.content
    return r.json()


def _end(run_id, finals, status="succeeded"):
    """A run that streamed epochs with these val_acc values and ended."""
    run = Run.objects.get(public_id=run_id)
    for i, v in enumerate(finals, start=2):
        Event.objects.create(run=run, seq=i, type="epoch", payload=json.dumps({"seq": i, "type": "epoch", "epoch": i - 1,
                                                                                "val_acc": v, "val_loss": 1 - v}))
    Run.objects.filter(pk=run.pk).update(status=status, summary={"val_acc": finals[-1], "val_loss": 1 - finals[-1],
                                                                 "epochs_run": len(finals)})


def test_mean_and_std_over_repeats_per_point(client_a, sweep):
    by_lr = {}
    for r in sweep["runs"]:
        by_lr.setdefault(r["values"]["/optimizer/lr"], []).append(r["id"])
    _end(by_lr[0.1][0], [0.5, 0.6])
    _end(by_lr[0.1][1], [0.7, 0.8])
    _end(by_lr[0.01][0], [0.9, 0.85])
    body = client_a.get(f"/api/sweeps/{sweep['id']}").json()
    points = {p["values"]["/optimizer/lr"]: p for p in body["points"]}
    assert points[0.1]["mean"] == pytest.approx(0.7) and points[0.1]["std"] == pytest.approx(0.1414, abs=1e-3)
    assert points[0.01]["mean"] == pytest.approx(0.85) and points[0.01]["std"] == 0.0
    assert points[0.001]["mean"] is None
    rows = {r["id"]: r for r in body["runs"]}
    assert rows[by_lr[0.01][0]]["best"] == pytest.approx(0.9)  # best epoch, not the last
    assert rows[by_lr[0.01][0]]["final"] == pytest.approx(0.85)
    assert body["best"] == by_lr[0.01][0]
    assert body["top"] == [by_lr[0.01][0], by_lr[0.1][1], by_lr[0.1][0]]
    assert body["is_owner"] is True and body["done"] is False


def test_goal_min_ranks_lowest_first(client_a):
    r = client_a.post_json("/api/sweeps", {"spec": BASE, "metric": "val_loss",
                                           "axes": [{"path": "/optimizer/lr", "values": [0.1, 0.01]}]}).json()
    _end(r["runs"][0]["id"], [0.2])
    _end(r["runs"][1]["id"], [0.6])
    body = client_a.get(f"/api/sweeps/{r['id']}").json()
    assert body["goal"] == "min" and body["best"] == r["runs"][1]["id"]  # val_loss 0.4 < 0.8


def test_cancel_all_ends_every_active_run_and_only_the_owner_may(client_a, client_b, sweep):
    _end(sweep["runs"][0]["id"], [0.5])
    assert client_b.post_json(f"/api/sweeps/{sweep['id']}/cancel").status_code == 403
    r = client_a.post_json(f"/api/sweeps/{sweep['id']}/cancel")
    assert r.status_code == 200 and r.json()["cancelled"] == 5
    statuses = [Run.objects.get(public_id=x["id"]).status for x in sweep["runs"]]
    assert statuses[0] == "succeeded" and statuses[1:] == ["cancelled"] * 5
    assert client_a.get(f"/api/sweeps/{sweep['id']}").json()["done"] is True


def test_csv_has_a_row_per_run_with_axis_values_and_metric(client_a, sweep):
    _end(sweep["runs"][0]["id"], [0.4, 0.75])
    r = client_a.get(f"/api/sweeps/{sweep['id']}/export/csv")
    assert r.status_code == 200 and r["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.content.decode())))
    assert len(rows) == 6
    first = next(x for x in rows if x["run"] == sweep["runs"][0]["id"])
    assert float(first["/optimizer/lr"]) == 0.1 and float(first["final_val_acc"]) == 0.75
    assert first["status"] == "succeeded"


def test_unknown_sweep_is_404_json(client_a):
    r = client_a.get("/api/sweeps/nope")
    assert r.status_code == 404 and r.json()["errors"][0]["message"]


def test_sweep_page_renders(client_a, sweep):
    r = client_a.get(f"/s/{sweep['id']}")
    assert r.status_code == 200 and sweep["id"] in r.content.decode()
    assert client_a.get("/s/nope").status_code == 404
