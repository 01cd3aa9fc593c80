"""The trainer end to end on small problems: it learns, diverges, stops, and repeats itself."""

import math

from training.loop import ListSink, train
from training.spec import validate

FAST = {"monitor": {"diagnostics": False, "boundary": False}}


def run(doc, **sink_kw):
    sink = ListSink(**sink_kw)
    status = train(validate(doc), sink)
    return status, sink


def test_default_mlp_learns_xor():
    status, sink = run({"data": {"dataset": "xor", "n_samples": 400}, "training": {"epochs": 60}})
    assert status == "succeeded"
    assert sink.of("summary")[0]["val_acc"] >= 0.9
    epochs = sink.of("epoch")
    assert epochs[-1]["train_loss"] < epochs[0]["train_loss"] / 2


def test_events_follow_the_protocol():
    status, sink = run({"data": {"dataset": "circle", "n_samples": 200}, "training": {"epochs": 3}})
    kinds = [e["type"] for e in sink.events]
    assert kinds[0] == "status" and sink.events[0]["status"] == "running"
    assert kinds[1] == "dataset" and kinds[-1] == "status" and sink.events[-1]["status"] == "succeeded"
    assert kinds[-2] == "summary"
    steps = sink.of("step")
    assert [s["step"] for s in steps] == list(range(1, len(steps) + 1))
    assert all({"step", "epoch", "loss", "lr"} <= set(s) for s in steps)
    assert len(sink.of("boundary")) == 3 and len(sink.of("diagnostics")) == 3
    b = sink.of("boundary")[-1]
    assert len(b["z"]) == len(b["y"]) and len(b["z"][0]) == len(b["x"])
    assert all(0 <= p <= 1 for row in b["z"] for p in row)


def test_huge_learning_rate_ends_diverged_with_the_step():
    status, sink = run({**FAST, "data": {"dataset": "spiral"},
                        "optimizer": {"name": "sgd", "lr": 100.0},
                        "model": {"layers": [{"type": "dense", "units": 64, "activation": "linear"}] * 4},
                        "training": {"epochs": 50}})
    assert status == "diverged"
    last = sink.events[-1]
    assert last["type"] == "status" and last["status"] == "diverged" and "at step" in last["message"]
    assert not sink.of("summary")  # nothing pretends the run finished
    assert all(math.isfinite(s["loss"]) for s in sink.of("step"))


def test_stop_request_is_honoured_at_the_next_step():
    status, sink = run({**FAST, "training": {"epochs": 100}}, stop_after_steps=7)
    assert status == "cancelled"
    assert len(sink.of("step")) == 7
    assert sink.events[-1]["status"] == "cancelled"


def test_same_seed_same_losses_other_seed_other_losses():
    doc = {**FAST, "data": {"dataset": "moons"}, "training": {"epochs": 3}, "seed": 3}
    a = [e["loss"] for e in run(doc)[1].of("step")]
    b = [e["loss"] for e in run(doc)[1].of("step")]
    c = [e["loss"] for e in run({**doc, "seed": 4})[1].of("step")]
    assert a == b
    assert a != c


def test_time_limit_ends_timed_out():
    status, sink = run({**FAST, "data": {"dataset": "spiral", "n_samples": 2000},
                        "training": {"epochs": 2000, "batch_size": 4, "max_seconds": 0.5}})
    assert status == "timed_out"
    assert sink.events[-1]["status"] == "timed_out"
    assert sink.of("summary")  # what was learned so far is still summarized


def test_a_last_batch_of_one_joins_the_previous_batch_so_batchnorm_trains():
    from training.loop import batch_edges

    assert batch_edges(70, 69) == [0, 70]
    assert batch_edges(10, 3) == [0, 3, 6, 10]
    assert batch_edges(9, 3) == [0, 3, 6, 9]
    assert batch_edges(3, 1) == [0, 1, 2, 3]
    doc = {**FAST, "data": {"n_samples": 100}, "training": {"epochs": 2, "batch_size": 69},
           "model": {"layers": [{"type": "dense", "units": 8}, {"type": "batchnorm"}]}}
    status, sink = run(doc)
    assert status == "succeeded" and len(sink.of("step")) == 2


def test_batchnorm_with_batches_of_one_is_a_validation_error():
    import pytest

    from training.spec import SpecError

    with pytest.raises(SpecError) as exc:
        validate({"training": {"batch_size": 1}, "model": {"layers": [{"type": "batchnorm"}]}})
    assert exc.value.errors[0]["path"] == "/training/batch_size"


def test_stop_during_the_final_landscape_ends_cancelled():
    class StopAtLandscape(ListSink):
        def should_stop(self):
            return any(e["type"] == "landscape" for e in self.events)

    sink = StopAtLandscape()
    status = train(validate({**FAST, "training": {"epochs": 2},
                             "monitor": {"diagnostics": False, "boundary": False,
                                         "landscape": {"mode": "2d", "resolution": 15, "eval_samples": 64}}}), sink)
    assert status == "cancelled" and sink.events[-1]["status"] == "cancelled"
    done = {e["surface"] for e in sink.events if e["type"] == "landscape" and e.get("done")}
    assert not {"random", "pca"} <= done  # the grids were cut short
