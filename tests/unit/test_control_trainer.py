"""Live controls applied by the trainer between batches (training/control.py)."""

import math

import pytest

from training.control import ControlError, Controller, ScriptedControls, check_command
from training.loop import ListSink, train
from training.spec import Limits, validate


class ControlSink(ScriptedControls, ListSink):
    def __init__(self, script, stop_while_paused=False):
        super().__init__()
        self.set_script(script)
        self.stop_while_paused = stop_while_paused

    def should_stop(self):
        if not self.stop_while_paused:
            return False
        controls = self.of("control")
        return bool(controls) and controls[-1]["action"] == "pause"


def _spec(**extra):
    doc = {"seed": 1, "data": {"dataset": "xor", "n_samples": 200}, "training": {"epochs": 3, "batch_size": 20},
           "monitor": {"diagnostics": False, "boundary": False, "neurons": False}}
    doc.update(extra)
    return validate(doc)


def _steps_between(events, start_seq_event, end_seq_event):
    i, j = events.index(start_seq_event), events.index(end_seq_event)
    return sum(e["type"] == "step" for e in events[i:j])


def test_pause_step_five_resume_runs_exactly_five_batches_in_between():
    sink = ControlSink([(10, {"action": "pause"}), (10, {"action": "step", "steps": 5}),
                        (15, {"action": "resume"})])
    assert train(_spec(), sink) == "succeeded"
    controls = sink.of("control")
    assert [(c["action"], c["step"]) for c in controls] == [
        ("pause", 10), ("step", 10), ("pause", 15), ("resume", 15)]
    assert controls[1]["steps"] == 5 and controls[2]["reason"] == "steps done"
    assert _steps_between(sink.events, controls[1], controls[2]) == 5
    # nothing lost or added: 3 epochs of 7 batches (140 training samples / 20)
    assert [e["step"] for e in sink.of("step")] == list(range(1, 22))


def test_set_lr_overrides_the_schedule_from_the_next_batch_on():
    spec = _spec(schedule={"name": "cosine", "warmup_epochs": 1})
    sink = ControlSink([(4, {"action": "set", "lr": 0.0123})])
    train(spec, sink)
    lrs = {e["step"]: e["lr"] for e in sink.of("step")}
    assert lrs[4] != pytest.approx(0.0123)  # still the warm-up there
    assert all(lrs[s] == pytest.approx(0.0123) for s in range(5, 22))
    assert sink.of("control")[0] == {"type": "control", "action": "set", "lr": 0.0123, "step": 4}
    assert sink.of("epoch")[-1]["lr"] == pytest.approx(0.0123)


def test_set_weight_decay_changes_the_optimizer_and_shrinks_weights():
    def final_norm(script):
        sink = ControlSink(script)
        spec = _spec(optimizer={"name": "sgd", "lr": 0.05}, training={"epochs": 4, "batch_size": 20})
        from training.loop import Trainer

        t = Trainer(spec, sink)
        t.run()
        return sum(float((p.detach() ** 2).sum()) for p in t.net.parameters()), t.opt.param_groups[0]["weight_decay"]

    plain, wd0 = final_norm([])
    decayed, wd1 = final_norm([(1, {"action": "set", "weight_decay": 0.5})])
    assert (wd0, wd1) == (0.0, 0.5)
    assert decayed < plain


def test_stop_while_paused_ends_cancelled_and_keeps_events():
    sink = ControlSink([(3, {"action": "pause"})], stop_while_paused=True)
    assert train(_spec(), sink) == "cancelled"
    assert "paused" in sink.of("status")[-1]["message"]
    assert sink.of("summary") and len(sink.of("step")) == 3


def test_pause_longer_than_the_limit_ends_timed_out():
    sink = ControlSink([(2, {"action": "pause"})])
    assert train(_spec(), sink, limits=Limits(max_pause_seconds=0.2)) == "timed_out"
    assert "paused for more than" in sink.of("status")[-1]["message"]
    assert sink.of("summary")[0]["steps"] == 2  # kept: the summary of what was trained


def test_a_sink_without_controls_trains_as_before():
    sink = ListSink()
    assert train(_spec(), sink) == "succeeded"
    assert sink.of("control") == []


def test_controller_is_inert_without_poll_controls():
    class T:
        sink = ListSink()
    assert Controller(T()).between_batches() is None


@pytest.mark.parametrize("cmd, path", [
    ({"action": "jump"}, "/action"),
    ({"action": "step", "steps": 0}, "/steps"),
    ({"action": "step", "steps": 1.5}, "/steps"),
    ({"action": "set"}, "/lr"),
    ({"action": "set", "lr": 0}, "/lr"),
    ({"action": "set", "lr": -1e-3}, "/lr"),
    ({"action": "set", "lr": math.inf}, "/lr"),
    ({"action": "set", "lr": "0.1"}, "/lr"),
    ({"action": "set", "weight_decay": -1}, "/weight_decay"),
    ({"action": "pause", "steps": 3}, "/steps"),
    ([], ""),
])
def test_bad_commands_name_their_field(cmd, path):
    with pytest.raises(ControlError) as err:
        check_command(cmd, "adam")
    assert err.value.path == path


def test_good_commands_come_back_canonical():
    assert check_command({"action": "step"}) == {"action": "step", "steps": 1}
    assert check_command({"action": "set", "lr": 1, "weight_decay": 0}, "sgd") == {
        "action": "set", "lr": 1.0, "weight_decay": 0.0}
