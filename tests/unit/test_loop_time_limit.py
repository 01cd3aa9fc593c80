"""max_seconds bounds the whole run: epochs, the landscape, sharpness and the LR test all
poll one should_stop() that is also true past the deadline. A clock the test moves
replaces the wall clock, so nothing here depends on the machine's speed."""

import types

import pytest

import training.loop as loop
from training.loop import ListSink, train
from training.spec import validate

BASE = {"data": {"dataset": "circle", "n_samples": 200}, "training": {"epochs": 3, "batch_size": 32, "max_seconds": 60},
        "monitor": {"boundary": False, "diagnostics": False}}


class Clock:
    def __init__(self):
        self.now = 0.0

    def perf_counter(self):
        return self.now


@pytest.fixture
def clock(monkeypatch):
    c = Clock()
    monkeypatch.setattr(loop, "time", types.SimpleNamespace(perf_counter=c.perf_counter))
    return c


class JumpAt(ListSink):
    """Moves the clock an hour ahead when the first event of a kind arrives."""

    def __init__(self, clock, kind, **match):
        super().__init__()
        self.clock, self.kind, self.match = clock, kind, match

    def emit(self, event):
        super().emit(event)
        if event["type"] == self.kind and all(event.get(k) == v for k, v in self.match.items()):
            self.clock.now += 3600


def test_time_limit_inside_the_landscape_ends_timed_out_with_the_training_kept(clock):
    spec = validate({**BASE, "monitor": {**BASE["monitor"],
                                         "landscape": {"mode": "2d", "resolution": 21, "when": "end"}}})
    sink = JumpAt(clock, "landscape", partial=True)
    result = train(spec, sink)
    assert result.status == "timed_out" and "landscape" in result.message
    assert len(sink.of("epoch")) == 3 and sink.of("summary")  # all the data is kept
    assert not [e for e in sink.of("landscape") if e.get("done")]  # the surface was left unfinished
    assert sink.events[-1] == {"type": "status", "status": "timed_out", "message": result.message}


def test_a_stop_request_inside_the_landscape_is_cancelled_not_timed_out(clock):
    spec = validate({**BASE, "monitor": {**BASE["monitor"],
                                         "landscape": {"mode": "2d", "resolution": 21, "when": "end"}}})

    class StopAtLandscape(ListSink):
        def should_stop(self):
            return any(e["type"] == "landscape" for e in self.events)

    result = train(spec, StopAtLandscape())
    assert result.status == "cancelled"


def test_time_limit_during_training_ends_timed_out_at_the_next_step(clock):
    sink = JumpAt(clock, "step", step=5)
    result = train(validate(BASE), sink)
    assert result.status == "timed_out" and result.message.endswith("at step 5")
    assert len(sink.of("step")) == 5


def test_time_limit_during_the_lr_range_test_ends_timed_out(clock):
    spec = validate({**BASE, "mode": "lr_finder", "lr_finder": {"steps": 200}})
    sink = JumpAt(clock, "status", status="running")  # the deadline passes before the first LR step
    result = train(spec, sink)
    assert result.status == "timed_out" and "LR range test" in result.message
    assert len(sink.of("lr_finder")[0]["lrs"]) < 200
