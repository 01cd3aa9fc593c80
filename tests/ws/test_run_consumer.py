"""The websocket consumer: backlog then live, resuming after a seq without gap or duplicate."""

import pytest
from channels.db import database_sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator

from tests.ws.layer import LayerPublisher
from webapp.runs.models import Run
from webapp.runs.routing import websocket_urlpatterns
from webapp.runs.sink import EventSink

pytestmark = pytest.mark.django_db(transaction=True)


@database_sync_to_async
def make_run(n_events: int = 0) -> tuple[Run, EventSink, LayerPublisher]:
    run = Run.objects.create(spec={}, owner_session="x")
    pub = LayerPublisher()
    sink = EventSink(run, pub, interval=0.0)
    for i in range(n_events):
        sink.emit({"type": "step", "step": i + 1, "epoch": 1, "loss": 1.0 / (i + 1), "lr": 0.1})
    sink.emit({"type": "epoch", "epoch": 1, "train_loss": 0.5})
    pub.sent.clear()  # nobody was listening: only the database has these
    return run, sink, pub


def expand(messages):
    seqs = []
    for m in messages:
        seqs.extend(m["seqs"] if "seqs" in m else [m["seq"]])
    return seqs


async def receive_until_live(comm):
    out = []
    while True:
        msg = await comm.receive_json_from(timeout=5)
        if msg["type"] == "live":
            return out, msg
        out.append(msg)


async def connect(run, after=None):
    path = f"/ws/runs/{run.public_id}/" + (f"?after={after}" if after is not None else "")
    comm = WebsocketCommunicator(URLRouter(websocket_urlpatterns), path)
    connected, _ = await comm.connect()
    assert connected
    return comm


async def test_backlog_then_live_events():
    run, sink, pub = await make_run(10)
    comm = await connect(run)
    backlog, live = await receive_until_live(comm)
    assert expand(backlog) == list(range(1, 12))
    assert backlog[0]["type"] == "step" and backlog[0]["loss"][0] == 1.0  # steps arrive coalesced
    assert live["last_seq"] == 11
    await database_sync_to_async(sink.emit)({"type": "epoch", "epoch": 2, "train_loss": 0.4})
    await pub.deliver()
    msg = await comm.receive_json_from(timeout=5)
    assert msg["seq"] == 12 and msg["epoch"] == 2
    await comm.disconnect()


async def test_resume_after_seq_has_no_gap_and_no_duplicate():
    run, sink, pub = await make_run(20)
    comm = await connect(run, after=15)
    backlog, _ = await receive_until_live(comm)
    assert expand(backlog) == [16, 17, 18, 19, 20, 21]
    await comm.disconnect()


async def test_live_messages_already_in_the_backlog_are_dropped():
    run, sink, pub = await make_run(5)
    # events persisted and published *while* the viewer was reading its backlog
    for i in range(3):
        await database_sync_to_async(sink.emit)({"type": "step", "step": 6 + i, "epoch": 1, "loss": 0.1, "lr": 0.1})
    comm = await connect(run)
    backlog, _ = await receive_until_live(comm)
    assert expand(backlog) == list(range(1, 10))
    await pub.deliver()  # the same three events arrive live: all duplicates
    await database_sync_to_async(sink.emit)({"type": "epoch", "epoch": 2})
    await pub.deliver()
    msg = await comm.receive_json_from(timeout=5)
    assert msg["seq"] == 10 and msg["type"] == "epoch"
    assert await comm.receive_nothing(timeout=0.2)
    await comm.disconnect()


async def test_unknown_run_is_refused():
    comm = WebsocketCommunicator(URLRouter(websocket_urlpatterns), "/ws/runs/missing/")
    connected, code = await comm.connect()
    assert not connected


async def test_resume_inside_a_compactly_stored_step_row_is_exact():
    @database_sync_to_async
    def compact_run():
        run = Run.objects.create(spec={}, owner_session="x")
        sink = EventSink(run, None, interval=3600)  # steps 2..30 share one row
        for i in range(30):
            sink.emit({"type": "step", "step": i + 1, "epoch": 1, "loss": 0.5, "lr": 0.1})
        sink.emit({"type": "epoch", "epoch": 1, "train_loss": 0.5})
        sink.close()
        return run

    run = await compact_run()
    comm = await connect(run, after=17)
    backlog, live = await receive_until_live(comm)
    assert expand(backlog) == list(range(18, 32)) and live["last_seq"] == 31
    await comm.disconnect()


async def test_malformed_frames_get_an_error_message_and_the_socket_stays_open():
    run, sink, pub = await make_run(0)
    comm = await connect(run)
    await receive_until_live(comm)
    for frame in ("not json", "[1, 2]", "42", '{"type": "dance"}'):
        await comm.send_to(text_data=frame)
        msg = await comm.receive_json_from(timeout=5)
        assert msg["type"] == "error" and msg["message"]
    await comm.send_json_to({"type": "ping"})
    assert (await comm.receive_json_from(timeout=5)) == {"type": "pong", "last_seq": 1}
    await comm.disconnect()


async def test_an_unroutable_websocket_path_is_refused_at_the_handshake():
    from webapp.asgi import application

    comm = WebsocketCommunicator(application, "/ws/nothing/here/",
                                 headers=[(b"origin", b"http://testserver"), (b"host", b"testserver")])
    connected, _ = await comm.connect()
    assert not connected


@pytest.mark.parametrize("origin, allowed", [
    (b"http://testserver", True),
    (b"http://testserver:80", True),
    (b"http://testserver:8001", False),  # same host, another port: another site
    (b"https://testserver", False),  # another scheme
    (b"http://evil.example", False),
    (b"", False),
])
async def test_origin_must_match_scheme_host_and_port(origin, allowed):
    from webapp.asgi import application

    run, sink, pub = await make_run(0)
    headers = [(b"host", b"testserver")] + ([(b"origin", origin)] if origin else [])
    comm = WebsocketCommunicator(application, f"/ws/runs/{run.public_id}/", headers=headers)
    connected, _ = await comm.connect()
    assert connected is allowed
    await comm.disconnect()


async def test_a_live_message_after_a_gap_is_preceded_by_the_missed_events():
    run, sink, pub = await make_run(3)  # seqs 1..4 persisted
    comm = await connect(run)
    await receive_until_live(comm)
    # Redis lost two messages in flight: persisted, never delivered
    for i in range(2):
        await database_sync_to_async(sink.emit)({"type": "epoch", "epoch": 2 + i, "train_loss": 0.3})
    pub.sent.clear()
    await database_sync_to_async(sink.emit)({"type": "epoch", "epoch": 4, "train_loss": 0.2})
    await pub.deliver()
    got = [await comm.receive_json_from(timeout=5) for _ in range(3)]
    assert [m["seq"] for m in got] == [5, 6, 7]
    assert await comm.receive_nothing(timeout=0.2)
    await comm.disconnect()


def record_reads(monkeypatch) -> list[tuple[int, int]]:
    """Every database read of the consumer's backlog, as (after, limit), in a list that grows."""
    from webapp.runs import consumers

    reads = []
    real = consumers._events_after

    async def recording(run_pk, after, limit=consumers.BACKLOG_PAGE):
        reads.append((after, limit))
        return await real(run_pk, after, limit)

    monkeypatch.setattr(consumers, "_events_after", recording)
    return reads


async def test_a_deaf_viewer_of_an_active_run_catches_up_from_the_database(monkeypatch):
    """Group membership lost (Redis restarted) and nothing live arrives: the watcher reads
    what was persisted meanwhile, without the viewer reconnecting."""
    from webapp.runs import consumers

    monkeypatch.setattr(consumers, "WATCH_INTERVAL", 0.2)
    run, sink, pub = await make_run(2)
    await database_sync_to_async(Run.objects.filter(pk=run.pk).update)(status="running")
    comm = await connect(run)
    await receive_until_live(comm)
    await database_sync_to_async(sink.emit)({"type": "epoch", "epoch": 2, "train_loss": 0.3})
    pub.sent.clear()  # never delivered live
    got = await comm.receive_json_from(timeout=5)
    assert got["seq"] == 4 and got["type"] == "epoch"
    await comm.disconnect()


async def test_a_viewer_that_hears_live_events_does_not_reread_the_database(monkeypatch):
    from webapp.runs import consumers

    monkeypatch.setattr(consumers, "WATCH_INTERVAL", 0.3)
    reads = record_reads(monkeypatch)
    run, sink, pub = await make_run(2)
    await database_sync_to_async(Run.objects.filter(pk=run.pk).update)(status="running")
    comm = await connect(run)
    await receive_until_live(comm)
    at_connect = len(reads)
    for epoch in range(2, 8):  # live events keep coming, faster than the watch interval
        await database_sync_to_async(sink.emit)({"type": "epoch", "epoch": epoch, "train_loss": 0.3})
        await pub.deliver()
        assert (await comm.receive_json_from(timeout=5))["epoch"] == epoch
        await __import__("asyncio").sleep(0.1)
    assert len(reads) == at_connect  # the backlog at connect, nothing since
    await comm.disconnect()


async def test_a_message_shared_by_several_viewers_is_encoded_once():
    from webapp.runs.consumers import TEXT_KEY, RunConsumer

    sent = []

    class Probe(RunConsumer):
        def __init__(self):
            self.last_seq, self.heard_at, self.lock = 0, 0.0, __import__("asyncio").Lock()

        async def send(self, text_data=None, bytes_data=None, close=False):
            sent.append(text_data)

    encodes = []
    real = RunConsumer.encode_json

    async def counting(content):
        encodes.append(content)
        return await real(content)

    message = {"type": "run.event", "event": {"type": "epoch", "seq": 1, "epoch": 1, "train_loss": 0.5}}
    for _ in range(5):
        probe = Probe()
        probe.encode_json = counting
        await probe.run_event(message)
    assert len(encodes) == 1 and len(sent) == 5 and len(set(sent)) == 1
    assert TEXT_KEY not in sent[0] and '"train_loss":0.5' in sent[0].replace(" ", "")


async def test_a_long_backlog_comes_in_a_small_first_page_then_big_ones_without_gap(monkeypatch):
    from webapp.runs import consumers

    monkeypatch.setattr(consumers, "FIRST_PAGE", 7)
    monkeypatch.setattr(consumers, "BACKLOG_PAGE", 50)
    reads = record_reads(monkeypatch)
    run, sink, pub = await make_run(0)

    @database_sync_to_async
    def epochs():
        for e in range(2, 121):
            sink.emit({"type": "epoch", "epoch": e, "train_loss": 1.0 / e})
        pub.sent.clear()

    await epochs()
    comm = await connect(run)
    got, live = await receive_until_live(comm)
    assert expand(got) == list(range(1, 121)) and live["last_seq"] == 120
    assert [limit for _after, limit in reads[:2]] == [7, 50]
    await comm.disconnect()
