"""GET /api/runs/<id> names the run's sweep: its id, page, this run's axis values and repeat."""

from webapp.openapi import document

BASE = {"data": {"dataset": "xor", "n_samples": 100}, "training": {"epochs": 2}}


def test_a_sweeps_run_names_its_sweep_axes_and_repeat(client_a, client_b):
    sweep = client_a.post_json("/api/sweeps", {"spec": BASE, "repeats": 2, "axes": [
        {"path": "/optimizer/lr", "values": [0.1, 0.01]}, {"path": "/model/layers/0/units", "values": [4]}]}).json()
    for made in sweep["runs"]:
        body = client_b.get(f"/api/runs/{made['id']}").json()  # anyone with the link reads it
        ref = body["sweep"]
        assert ref["id"] == sweep["id"] and ref["url"] == f"/s/{sweep['id']}" == sweep["url"]
        assert ref["axes"] == made["values"] and set(ref["axes"]) == {"/optimizer/lr", "/model/layers/0/units"}
        assert ref["repeat"] in (0, 1) and made["seed"] == BASE.get("seed", 0) + ref["repeat"]
    repeats = sorted((client_a.get(f"/api/runs/{r['id']}").json()["sweep"]["repeat"]) for r in sweep["runs"])
    assert repeats == [0, 0, 1, 1]


def test_one_run_a_point_has_no_repeat_and_a_plain_run_no_sweep(client_a):
    sweep = client_a.post_json("/api/sweeps", {"spec": BASE, "axes": [{"path": "/optimizer/lr", "values": [0.1]}]}).json()
    ref = client_a.get(f"/api/runs/{sweep['runs'][0]['id']}").json()["sweep"]
    assert ref["repeat"] is None and ref["axes"] == {"/optimizer/lr": 0.1}
    run = client_a.post_json("/api/runs", {"spec": BASE}).json()
    assert client_a.get(f"/api/runs/{run['id']}").json()["sweep"] is None


def test_openapi_describes_the_sweep_field():
    doc = document()
    run = doc["components"]["schemas"]["Run"]
    assert "sweep" in run["properties"] and "sweep" not in run.get("required", [])
    ref = doc["components"]["schemas"]["SweepRef"]
    assert {"id", "url", "axes", "repeat"} <= set(ref["properties"])
