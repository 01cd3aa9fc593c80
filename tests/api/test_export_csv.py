"""GET /api/runs/<id>/export/csv: one row per epoch, every metric the run reported."""

import csv
import io
import json

import pytest

from webapp.runs.models import Event, Run


@pytest.fixture
def run_with_epochs(client_a):
    r = client_a.post_json("/api/runs", {"spec": {"name": "xor, adam", "data": {"dataset": "xor"}}})
    run = Run.objects.get(public_id=r.json()["id"])
    evs = [
        {"type": "step", "step": [1, 2, 3], "loss": [0.9, 0.8, 0.7]},
        {"type": "epoch", "epoch": 1, "train_loss": 0.7, "val_loss": 0.75, "train_acc": 0.6, "val_acc": 0.55,
         "lr": 0.01, "seconds": 0.1},
        {"type": "diagnostics", "epoch": 1, "layers": []},
        {"type": "step", "step": [4, 5, 6], "loss": [0.6, 0.5, 0.4]},
        {"type": "epoch", "epoch": 2, "train_loss": 0.4, "val_loss": None, "train_acc": 0.8, "val_acc": 0.7,
         "lr": 0.005, "seconds": 0.1, "penalty": {"l1": 0.02, "l2": 0.01}},
    ]
    for seq, ev in enumerate(evs, start=10):
        Event.objects.create(run=run, seq=seq, type=ev["type"], payload=json.dumps({"seq": seq, **ev}))
    return run


def _rows(response):
    return list(csv.DictReader(io.StringIO(response.content.decode())))


def test_csv_has_one_row_per_epoch_with_every_metric(client_b, run_with_epochs):
    r = client_b.get(f"/api/runs/{run_with_epochs.public_id}/export/csv")
    assert r.status_code == 200
    assert r["Content-Type"].startswith("text/csv")
    assert "attachment" in r["Content-Disposition"] and ".csv" in r["Content-Disposition"]
    rows = _rows(r)
    assert [row["epoch"] for row in rows] == ["1", "2"]
    header = r.content.decode().splitlines()[0].split(",")
    for col in ("epoch", "step", "train_loss", "val_loss", "train_acc", "val_acc", "lr", "seconds",
                "penalty_l1", "penalty_l2"):
        assert col in header, col
    assert float(rows[1]["train_loss"]) == 0.4 and float(rows[1]["penalty_l1"]) == 0.02


def test_csv_puts_each_epoch_at_its_last_step_and_leaves_missing_values_empty(client_b, run_with_epochs):
    rows = _rows(client_b.get(f"/api/runs/{run_with_epochs.public_id}/export/csv"))
    assert [row["step"] for row in rows] == ["3", "6"]
    assert rows[1]["val_loss"] == "" and rows[0]["penalty_l1"] == ""


def test_csv_of_a_run_without_epochs_is_just_the_header(client_a):
    r = client_a.post_json("/api/runs", {"spec": {}})
    out = client_a.get(f"/api/runs/{r.json()['id']}/export/csv")
    assert out.status_code == 200
    assert out.content.decode().strip() == "epoch,step"


def test_csv_of_an_unknown_run_is_a_404_with_errors(client_a):
    r = client_a.get("/api/runs/nope/export/csv")
    assert r.status_code == 404 and r.json()["errors"][0]["message"]
