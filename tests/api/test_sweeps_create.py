"""POST /api/sweeps: grid and random expansion, validation of every generated spec, limits."""

import math

import pytest
from django.test import override_settings

from webapp.runs.models import Run
from webapp.sweeps.models import Sweep, SweepRun

BASE = {"data": {"dataset": "xor", "n_samples": 100}, "training": {"epochs": 2},
        "monitor": {"diagnostics": False, "boundary": False}}


def _post(client, **body):
    return client.post_json("/api/sweeps", {"spec": BASE, **body})


def test_grid_is_the_product_of_the_axes_times_the_repeats(client_a):
    r = _post(client_a, method="grid", repeats=2, axes=[
        {"path": "/optimizer/lr", "values": [0.1, 0.01, 0.001]},
        {"path": "/model/layers/0/units", "values": [4, 16]}])
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["url"] == f"/s/{body['id']}" and len(body["runs"]) == 3 * 2 * 2
    combos = {(run["values"]["/optimizer/lr"], run["values"]["/model/layers/0/units"]) for run in body["runs"]}
    assert combos == {(lr, u) for lr in (0.1, 0.01, 0.001) for u in (4, 16)}
    for run in body["runs"]:
        spec = Run.objects.get(public_id=run["id"]).spec
        assert spec["optimizer"]["lr"] == run["values"]["/optimizer/lr"]
        assert spec["model"]["layers"][0]["units"] == run["values"]["/model/layers/0/units"]


def test_repeats_differ_only_in_their_seed(client_a):
    body = _post(client_a, repeats=3, axes=[{"path": "/optimizer/lr", "values": [0.05]}]).json()
    specs = [Run.objects.get(public_id=r["id"]).spec for r in body["runs"]]
    assert [s["seed"] for s in specs] == [0, 1, 2]
    assert all({**s, "seed": 0} == {**specs[0], "seed": 0} for s in specs)


def test_random_log_uniform_samples_stay_in_range_and_spread_over_decades(client_a):
    body = _post(client_a, method="random", samples=24, seed=3,
                 axes=[{"path": "/optimizer/lr", "log_uniform": [1e-4, 1.0]}]).json()
    lrs = [r["values"]["/optimizer/lr"] for r in body["runs"]]
    assert len(lrs) == 24 and all(1e-4 <= lr <= 1.0 for lr in lrs)
    decades = {math.floor(math.log10(lr)) for lr in lrs}
    assert len(decades) >= 3  # log-uniform: small values as likely per decade as large ones


def test_random_int_log_uniform_gives_integers(client_a):
    body = _post(client_a, method="random", samples=10,
                 axes=[{"path": "/model/layers/0/units", "int_log_uniform": [2, 512]}]).json()
    units = [r["values"]["/model/layers/0/units"] for r in body["runs"]]
    assert all(isinstance(u, int) and 2 <= u <= 512 for u in units)
    assert all(Run.objects.get(public_id=r["id"]).spec["model"]["layers"][0]["units"] == r["values"]["/model/layers/0/units"]
               for r in body["runs"])


def test_random_with_the_same_seed_draws_the_same_points(client_a):
    axes = [{"path": "/optimizer/lr", "log_uniform": [1e-3, 1.0]}]
    one = _post(client_a, method="random", samples=5, seed=7, axes=axes).json()
    two = _post(client_a, method="random", samples=5, seed=7, axes=axes).json()
    assert [r["values"] for r in one["runs"]] == [r["values"] for r in two["runs"]]


def test_grid_over_a_log_range_takes_count_log_spaced_points(client_a):
    body = _post(client_a, axes=[{"path": "/optimizer/lr", "log_uniform": [1e-4, 1.0], "count": 5}]).json()
    lrs = [r["values"]["/optimizer/lr"] for r in body["runs"]]
    assert lrs == pytest.approx([1e-4, 1e-3, 1e-2, 1e-1, 1.0])


def test_an_invalid_value_refuses_the_whole_sweep_naming_axis_and_value(client_a):
    r = _post(client_a, axes=[{"path": "/optimizer/lr", "values": [0.1, -1]},
                              {"path": "/training/epochs", "values": [1, 2]}])
    assert r.status_code == 400
    errors = r.json()["errors"]
    assert errors[0]["path"] == "/axes/0" and "-1" in errors[0]["message"] and "/optimizer/lr" in errors[0]["message"]
    assert not Run.objects.exists() and not Sweep.objects.exists()  # nothing queued


def test_a_value_that_breaks_the_model_is_found_in_the_generated_spec(client_a):
    # valid as a number, but too many parameters once the network is built
    r = _post(client_a, axes=[{"path": "/model/layers/0/units", "values": [8, 3_000_000]}])
    assert r.status_code == 400
    assert r.json()["errors"][0]["path"] == "/axes/0" and "3000000" in r.json()["errors"][0]["message"]
    assert not Run.objects.exists()


def test_a_path_that_is_not_in_the_spec_is_a_400(client_a):
    r = _post(client_a, axes=[{"path": "/optimizer/learning_rate", "values": [0.1]}])
    assert r.status_code == 400 and r.json()["errors"][0]["path"] == "/axes/0"
    r = _post(client_a, axes=[{"path": "/model/layers/7/units", "values": [4]}])
    assert r.status_code == 400 and r.json()["errors"][0]["path"] == "/axes/0/path"


@pytest.mark.parametrize("body,path", [
    ({"method": "bayes", "axes": [{"path": "/seed", "values": [1]}]}, "/method"),
    ({"axes": []}, "/axes"),
    ({"axes": [{"path": "optimizer/lr", "values": [1]}]}, "/axes/0/path"),
    ({"axes": [{"path": "/optimizer/lr", "log_uniform": [1, 0.1], "count": 3}]}, "/axes/0/log_uniform"),
    ({"axes": [{"path": "/optimizer/lr", "log_uniform": [0, 1], "count": 3}]}, "/axes/0/log_uniform/0"),
    ({"axes": [{"path": "/optimizer/lr", "log_uniform": [1e-3, 1]}]}, "/axes/0/count"),
    ({"method": "random", "axes": [{"path": "/optimizer/lr", "values": [1]}]}, "/samples"),
    ({"repeats": 0, "axes": [{"path": "/optimizer/lr", "values": [1]}]}, "/repeats"),
    ({"metric": "accuracy", "axes": [{"path": "/optimizer/lr", "values": [1]}]}, "/metric"),
    ({"spec": {"optimizer": {"lr": -1}}, "axes": [{"path": "/seed", "values": [1]}]}, "/spec/optimizer/lr"),
])
def test_bad_sweep_bodies_name_the_field(client_a, body, path):
    r = client_a.post_json("/api/sweeps", {"spec": BASE, **body})
    assert r.status_code == 400, r.content
    assert r.json()["errors"][0]["path"] == path


@override_settings(MAX_SWEEP_RUNS=8)
def test_more_runs_than_the_limit_is_refused(client_a):
    r = _post(client_a, repeats=3, axes=[{"path": "/optimizer/lr", "values": [0.1, 0.01, 0.001]}])
    assert r.status_code == 400 and "at most 8" in r.json()["errors"][0]["message"]
    assert not Run.objects.exists()


def test_a_sweep_is_not_blocked_by_the_single_run_cap(client_a, settings):
    settings.MAX_ACTIVE_RUNS_PER_OWNER = 2
    r = _post(client_a, axes=[{"path": "/optimizer/lr", "values": [0.1, 0.03, 0.01, 0.003, 0.001]}])
    assert r.status_code == 201
    assert Run.objects.filter(status="queued").count() == 5
    assert SweepRun.objects.count() == 5


def test_a_sweep_lesson_launches_by_its_slug(client_a):
    lessons = client_a.get("/api/sweeps/lessons").json()
    lr = next(x for x in lessons if x["slug"] == "lr-orders-of-magnitude")
    assert lr["kind"] == "sweep" and lr["sweep"]["axes"][0]["path"] == "/optimizer/lr"
    body = client_a.post_json("/api/sweeps", {"lesson": "lr-orders-of-magnitude"}).json()
    lrs = [r["values"]["/optimizer/lr"] for r in body["runs"]]
    assert len(lrs) == 9 and lrs[0] == pytest.approx(1e-4) and lrs[-1] == pytest.approx(10.0)
    assert client_a.post_json("/api/sweeps", {"lesson": "nope"}).json()["errors"][0]["path"] == "/lesson"


def test_every_sweep_lesson_expands_to_valid_runs(client_a):
    for lesson in client_a.get("/api/sweeps/lessons").json():
        r = client_a.post_json("/api/sweeps", {"lesson": lesson["slug"]})
        assert r.status_code == 201, (lesson["slug"], r.content)


def test_a_huge_grid_is_refused_before_it_is_expanded(client_a):
    axes = [{"path": p, "values": list(range(1, 1001))} for p in ("/seed", "/training/epochs", "/model/layers/0/units")]
    r = _post(client_a, axes=axes)
    assert r.status_code == 400 and "1000000000 points" in r.json()["errors"][0]["message"]
