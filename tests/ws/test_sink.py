"""The event sink: contiguous seq, persisted before published, steps coalesced."""

import pytest

from webapp.runs.events import coalesce, drop_seen, expand
from webapp.runs.models import Event, Run
from webapp.runs.sink import EventSink


class Recorder:
    def __init__(self):
        self.messages = []

    def send(self, group, message):
        # persisted before published: the database already holds every seq sent
        seq = message["event"]["seq"]
        assert Event.objects.filter(run__public_id=group[4:], seq=seq).exists()
        assert message["type"] == "run.event"
        self.messages.append(message["event"])

    def drain(self, timeout=5.0):
        return True


@pytest.mark.django_db
def test_sink_numbers_persists_and_coalesces_steps():
    run = Run.objects.create(spec={}, owner_session="x", last_seq=1)
    rec = Recorder()
    sink = EventSink(run, rec, interval=3600)  # no tick: steps wait for the next other event
    for i in range(500):
        sink.emit({"type": "step", "step": i + 1, "epoch": 1, "loss": float("nan") if i == 3 else 1.0, "lr": 0.1})
    sink.emit({"type": "epoch", "epoch": 1, "train_loss": float("inf")})
    sink.close()
    rows = list(Event.objects.filter(run=run))
    # stored compactly: one row per message as published, every seq inside exactly once
    assert [r.seq for r in rows] == [2, 501, 502]
    assert [e["seq"] for r in rows for e in expand(r.data())] == list(range(2, 503))
    # the first step at once, the rest coalesced into one message, then the epoch
    assert len(rec.messages) == 3
    assert rec.messages[0]["seq"] == 2 and rec.messages[0]["step"] == 1
    assert rec.messages[1]["seqs"] == list(range(3, 502)) and rec.messages[1]["loss"][2] is None
    assert rec.messages[2] == {"seq": 502, "type": "epoch", "epoch": 1, "train_loss": None}
    assert Run.objects.get(pk=run.pk).last_seq == 502


@pytest.mark.django_db
def test_sink_publishes_at_most_about_twenty_step_messages_a_second(monkeypatch):
    clock = {"now": 1000.0}

    def tick():  # a step every millisecond, on a clock the test owns
        clock["now"] += 0.001
        return clock["now"]

    monkeypatch.setattr("webapp.runs.sink.time.monotonic", tick)
    run = Run.objects.create(spec={}, owner_session="x")
    rec = Recorder()
    sink = EventSink(run, rec, interval=0.05)
    t0 = clock["now"]
    for i in range(1, 1001):
        sink.emit({"type": "step", "step": i, "epoch": 1, "loss": 1.0, "lr": 0.1})
    sink.close()
    elapsed = clock["now"] - t0
    assert 10 <= len(rec.messages) <= elapsed / 0.05 + 2
    assert sum(len(m.get("seqs", [m["seq"]])) for m in rec.messages) == 1000  # nothing dropped


@pytest.mark.django_db
def test_should_stop_sees_the_flag():
    run = Run.objects.create(spec={}, owner_session="x")
    sink = EventSink(run, None, stop_check_interval=0)
    assert not sink.should_stop()
    Run.objects.filter(pk=run.pk).update(stop_requested=True)
    assert sink.should_stop()


def test_drop_seen_trims_a_coalesced_message():
    msgs = coalesce([{"seq": s, "type": "step", "step": s, "epoch": 1, "loss": 0.0, "lr": 1.0} for s in (4, 5, 6)])
    assert drop_seen(msgs[0], 5)["seqs"] == [6]
    assert drop_seen(msgs[0], 6) is None
    assert drop_seen({"seq": 3, "type": "epoch"}, 3) is None


@pytest.mark.django_db
def test_should_stop_once_the_run_was_ended_elsewhere():
    run = Run.objects.create(spec={}, owner_session="x", status="running")
    sink = EventSink(run, None, stop_check_interval=0)
    assert not sink.should_stop()
    Run.objects.filter(pk=run.pk).update(status="failed")  # the reaper ended it
    assert sink.should_stop()


@pytest.mark.django_db
def test_a_sink_whose_seqs_were_taken_drops_its_events_instead_of_crashing():
    run = Run.objects.create(spec={}, owner_session="x", status="running")
    sink = EventSink(run, None, interval=3600)
    sink.emit({"type": "step", "step": 1, "epoch": 1, "loss": 1.0, "lr": 0.1})  # the first step goes at once
    sink.emit({"type": "step", "step": 2, "epoch": 1, "loss": 1.0, "lr": 0.1})  # pending as seq 2
    Event.objects.create(run=run, seq=2, type="status", payload='{"seq":2,"type":"status","status":"failed"}')
    sink.close()  # seq 2 is taken: the worker lost the run
    assert sink.lost and sink.should_stop()
    sink.emit({"type": "epoch", "epoch": 1, "train_loss": 1.0})
    sink.close()
    assert list(Event.objects.filter(run=run).values_list("seq", "type")) == [(1, "step"), (2, "status")]


@pytest.mark.django_db
def test_step_losses_are_stored_as_the_float32_they_were_computed_in():
    import numpy as np
    import torch

    run = Run.objects.create(spec={}, owner_session="x")
    loss = torch.tensor(0.123456789, dtype=torch.float32).item()  # 0.12345679104328156 as a double
    sink = EventSink(run, None)
    sink.emit({"type": "step", "step": 1, "epoch": 1, "loss": loss, "lr": 0.1})
    sink.close()
    stored = Event.objects.get(run=run).data()["loss"]
    assert stored == 0.12345679 and np.float32(stored) == np.float32(loss)


def test_the_publisher_keeps_a_bounded_backlog_while_the_channel_layer_fails():
    import threading

    from webapp.runs.publisher import Publisher

    class DeadLayer:
        def __init__(self):
            self.calls = 0
            self.gate = threading.Event()

        async def group_send(self, group, message):
            self.calls += 1
            import asyncio

            while not self.gate.is_set():  # Redis down: every send hangs, then fails
                await asyncio.sleep(0.01)
            raise ConnectionError("Redis is down")

    pub = Publisher()
    pub.layer = DeadLayer()
    pub.failing = True
    for i in range(Publisher.MAX_BACKLOG * 3):
        pub.send("run.x", {"type": "run.event", "event": {"seq": i}})
    assert pub.drain(timeout=0.5) is False  # stuck behind the hanging send
    assert pub.queue.qsize() <= Publisher.MAX_BACKLOG + 1
    pub.layer.gate.set()
    assert pub.drain(timeout=10) is True  # it recovers and keeps consuming
    assert pub.layer.calls <= Publisher.MAX_BACKLOG + 2
