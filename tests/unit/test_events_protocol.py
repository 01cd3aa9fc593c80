"""The event protocol (training.events): every event a run emits fits its typed model,
and the run's outcome comes back from train() as a RunResult."""

import pytest
from pydantic import ValidationError

from training import events as ev
from training.loop import ListSink, RunResult, train
from training.spec import validate

QUIET = {"training": {"epochs": 2, "batch_size": 64}}

SPECS = {
    "xor_mlp": {"data": {"dataset": "xor", "n_samples": 200}, **QUIET},
    "regression_1d": {"data": {"dataset": "poly1d", "n_samples": 200}, **QUIET},
    "digits_cnn": {"data": {"dataset": "digits", "n_samples": 300},
                   "model": {"layers": [{"type": "conv2d", "filters": 4, "kernel": 3, "activation": "relu"},
                                        {"type": "batchnorm"}, {"type": "maxpool2d", "kernel": 2},
                                        {"type": "flatten"}, {"type": "dropout", "p": 0.1}]}, **QUIET},
    "landscape_2d": {"data": {"dataset": "circle", "n_samples": 200}, **QUIET,
                     "monitor": {"landscape": {"mode": "2d", "resolution": 5, "trajectory": True,
                                               "interpolation": True, "sharpness": True}}},
    "lr_finder": {"mode": "lr_finder", "data": {"dataset": "moons", "n_samples": 200},
                  "lr_finder": {"steps": 30}},
}


@pytest.mark.parametrize("name", SPECS)
def test_every_emitted_event_validates_against_its_model(name):
    sink = ListSink(validate=False)
    result = train(validate(SPECS[name]), sink)
    assert result.status == "succeeded", result.message
    for event in sink.events:
        model = ev.validate_event(event)
        assert type(model) is ev.EVENT_MODELS[event["type"]]
    assert sink.events[0] == {"type": "status", "status": "running", "message": ""}
    assert sink.events[-1]["type"] == "status" and sink.events[-1]["status"] == result.status


def test_train_returns_status_message_summary_and_device():
    sink = ListSink()
    result = train(validate(SPECS["xor_mlp"]), sink)
    assert isinstance(result, RunResult)
    assert result.status == "succeeded" and result.message == ""
    assert result.device == "cpu"
    summary = sink.of("summary")[0]
    assert result.summary == {k: v for k, v in summary.items() if k != "type"}
    assert result == "succeeded" and result != "failed"


def test_a_diverged_run_reports_the_step_and_no_summary():
    sink = ListSink()
    result = train(validate({"data": {"dataset": "spiral"}, "optimizer": {"name": "sgd", "lr": 100.0},
                             "model": {"layers": [{"type": "dense", "units": 64, "activation": "linear"}] * 4},
                             "monitor": {"diagnostics": False, "boundary": False}, "training": {"epochs": 50}}), sink)
    assert result.status == "diverged" and "at step" in result.message
    assert result.summary is None


def test_events_outside_the_contract_are_rejected():
    with pytest.raises(ValidationError):
        ev.validate_event({"type": "status", "status": "stuck"})
    with pytest.raises(ValidationError):
        ev.validate_event({"type": "teleport"})
    with pytest.raises(ValidationError):
        ev.validate_event({"type": "step", "step": 1, "epoch": 1, "loss": 0.5})  # no lr
    with pytest.raises(ValidationError):
        ListSink().emit({"type": "epoch"})  # the list sink checks as it collects


def test_extras_are_allowed_where_payloads_grow():
    e = ev.validate_event({"type": "summary", "epochs_run": 3, "params": 10, "test_acc": 0.9, "swa_acc": 0.91})
    assert e.test_acc == 0.9 and e.model_extra == {"swa_acc": 0.91}


def test_schema_lists_every_event_type_and_the_statuses():
    schema = ev.json_schema()
    x = schema["x-descent"]
    assert x["statuses"] == list(ev.STATUSES)
    assert x["active"] == ["queued", "running"] and "timed_out" in x["final"]
    assert set(x["event_types"]) == {"status", "dataset", "step", "epoch", "diagnostics", "boundary",
                                     "landscape", "lr_finder", "summary", "control", "neurons"}
    refs = {one["$ref"].rsplit("/", 1)[1] for one in schema["oneOf"]}
    assert refs == {m.__name__ for m in ev.EVENT_MODELS.values()}
    assert schema["$defs"]["StatusEvent"]["properties"]["status"]["enum"] == list(ev.STATUSES)
    assert {"StepBatch", "LiveNotice", "QueueNotice", "Pong", "ErrorNotice"} <= set(schema["$defs"])
