"""Landscapes through the trainer: ``train(spec, ListSink())`` with ``monitor.landscape`` set."""

import json

import pytest

from training import landscape
from training.loop import ListSink, train
from training.spec import validate


def run(landscape_spec: dict, epochs: int = 3, sink=None, **extra) -> ListSink:
    doc = {"data": {"n_samples": 200}, "training": {"epochs": epochs},
           "monitor": {"boundary": False, "diagnostics": False,
                       "landscape": {"resolution": 5, "eval_samples": 64, **landscape_spec}}, **extra}
    sink = sink or ListSink()
    train(validate(doc), sink)
    json.dumps(sink.events, allow_nan=False)  # every event is JSON-safe
    return sink


def finals(sink, surface):
    return [e for e in sink.of("landscape") if e["surface"] == surface and e.get("done")]


def test_a_2d_run_emits_random_and_pca_surfaces_the_interpolation_and_sharpness():
    sink = run({"mode": "2d"})
    (rnd,) = finals(sink, "random")
    assert len(rnd["loss"]) == 5 and len(rnd["loss"][0]) == 5 and rnd["seed"] == 0
    assert rnd["loss"][2][2] == pytest.approx(rnd["center_loss"], rel=1e-5)
    partial = [e for e in sink.of("landscape") if e["surface"] == "random" and e["partial"]]
    rows = [row for e in sorted(partial, key=lambda e: e["row_start"]) for row in e["loss"]]
    assert rows == rnd["loss"] and partial[-1]["progress"] == 1.0
    (pca,) = finals(sink, "pca")
    assert len(pca["trajectory"]["x"]) == 4  # initial weights and three epochs
    assert pca["trajectory"]["x"][-1] == pytest.approx(0, abs=1e-6)
    assert pca["trajectory"]["y"][-1] == pytest.approx(0, abs=1e-6)
    assert 0 in pca["alphas"] and 0 in pca["betas"]
    assert min(pca["alphas"]) <= min(pca["trajectory"]["x"]) and max(pca["alphas"]) >= max(pca["trajectory"]["x"])
    assert 0 < sum(pca["explained_variance"]) <= 1.0 + 1e-6
    (interp,) = finals(sink, "interpolation")
    assert interp["alphas"] == [-0.5, 0.0, 0.5, 1.0, 1.5]
    assert interp["loss"][3] == pytest.approx(interp["center_loss"], rel=1e-5)  # alpha 1 is the final model
    assert interp["loss"][1] > interp["loss"][3]  # training lowered the loss from the initial weights
    sharp = sink.of("summary")[0]["sharpness"]
    assert sharp["top_eigenvalue"] > 0 and sharp["trace"] > 0


def test_a_1d_run_draws_curves_only():
    sink = run({"mode": "1d", "sharpness": False})
    surfaces = {e["surface"] for e in sink.of("landscape")}
    assert surfaces == {"random1d", "interpolation"}
    (curve,) = finals(sink, "random1d")
    assert curve["mode"] == "1d" and len(curve["loss"]) == 5
    assert curve["loss"][2] == pytest.approx(curve["center_loss"], rel=1e-5)
    assert "sharpness" not in sink.of("summary")[0]


def test_every_n_epochs_draws_surfaces_while_training():
    sink = run({"when": "every", "every_epochs": 2, "trajectory": False, "interpolation": False,
                "sharpness": False}, epochs=4)
    done = finals(sink, "random")
    assert [e["epoch"] for e in done] == [2, 4]  # the last epoch's surface is not drawn twice
    types = [e["type"] for e in sink.events]
    first = types.index("landscape")
    assert "step" in types[first:]  # training went on after the first surface


def test_checkpoint_every_steps_records_the_path_between_epochs():
    sink = run({"checkpoint_every_steps": 2, "interpolation": False, "sharpness": False}, epochs=2)
    (pca,) = finals(sink, "pca")
    steps = pca["trajectory"]["steps"]
    assert steps[0] == 0 and steps[1] == 2 and len(steps) > 4


class StopDuringLandscape(ListSink):
    def should_stop(self) -> bool:
        return any(e["type"] == "landscape" for e in self.events)


def test_a_stop_request_ends_the_landscape_cleanly(monkeypatch):
    monkeypatch.setattr(landscape.tracker, "default_budget", lambda device: 30_000)  # many small chunks
    sink = run({"resolution": 9}, sink=StopDuringLandscape())
    events = sink.of("landscape")
    assert events and all(e["partial"] for e in events)
    assert len(events[-1]["loss"]) < 9
    assert "sharpness" not in sink.of("summary")[0]


def test_image_model_with_conv_batchnorm_and_dropout():
    sink = run({"trajectory": False, "interpolation": False}, epochs=1,
               data={"dataset": "digits", "n_samples": 300},
               model={"layers": [{"type": "conv2d", "filters": 4}, {"type": "batchnorm"},
                                 {"type": "maxpool2d"}, {"type": "dropout", "p": 0.3},
                                 {"type": "dense", "units": 8}]})
    (rnd,) = finals(sink, "random")
    assert rnd["loss"][2][2] == pytest.approx(rnd["center_loss"], rel=1e-5)
    assert all(v is not None for row in rnd["loss"] for v in row)


def test_the_path_carries_each_checkpoints_own_loss():
    sink = run({"mode": "2d", "sharpness": False}, epochs=4,
               model={"layers": [{"type": "dense", "units": 8}, {"type": "batchnorm"}]})
    (pca,) = finals(sink, "pca")
    tr = pca["trajectory"]
    assert len(tr["loss"]) == len(tr["x"]) == len(tr["steps"]) == 5
    assert tr["loss"][-1] == pytest.approx(pca["center_loss"], rel=1e-5)  # the last point is the trained model
    assert tr["loss"][0] > tr["loss"][-1]  # training lowered the loss
    (interp,) = finals(sink, "interpolation")
    assert tr["loss"][0] == pytest.approx(interp["loss"][interp["alphas"].index(0.0)], rel=1e-5)  # the untrained model


def test_after_early_stopping_the_path_ends_at_the_best_epoch():
    sink = run({"mode": "2d", "sharpness": False, "interpolation": False}, epochs=40,
               data={"dataset": "circle", "n_samples": 200, "label_noise": 0.4},
               optimizer={"name": "adam", "lr": 0.05},
               regularization={"early_stopping": {"metric": "val_loss", "patience": 3}})
    summary = sink.of("summary")[0]
    assert summary["early_stopped"]
    best = summary["best_epoch"]
    best_step = [e for e in sink.of("step") if e["epoch"] == best][-1]["step"]
    (pca,) = finals(sink, "pca")
    assert pca["trajectory"]["steps"][-1] == best_step
    assert pca["step"] == best_step
    assert all(s <= best_step for s in pca["trajectory"]["steps"])
    assert pca["trajectory"]["loss"][-1] == pytest.approx(pca["center_loss"], rel=1e-5)


def test_surfaces_report_the_samples_they_were_evaluated_on_and_a_log_hint():
    sink = run({"mode": "2d", "sharpness": False, "eval_samples": 50})
    for e in sink.of("landscape"):
        assert e["eval_samples"] == 50
    for e in (e for e in sink.of("landscape") if e["done"]):
        assert isinstance(e["log_scale_hint"], bool)


def test_sharpness_reports_the_traces_standard_error():
    sink = run({"mode": "1d", "interpolation": False})
    sharp = sink.of("summary")[0]["sharpness"]
    assert sharp["trace_stderr"] > 0
    assert 1 < sharp["power_iterations"] <= 100 and 10 <= sharp["trace_samples"] <= 100
