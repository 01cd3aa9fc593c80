"""The sweep socket /ws/sweeps/<id>/: the table on connect, then throttled row updates
fed by the runs' own sink (status and epoch events), the end of a run and the release of
waiting runs; in the in-memory channel layer and through a real Redis with the real Publisher."""

import asyncio
import time

import pytest
from channels.db import database_sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.contrib.sessions.backends.db import SessionStore

from tests.ws.layer import LayerPublisher
from webapp.runs.models import Run
from webapp.runs.routing import SameOriginValidator, websocket_urlpatterns
from webapp.runs.sink import EventSink
from webapp.sweeps import consumers, services
from webapp.sweeps.models import Sweep, SweepRun

pytestmark = pytest.mark.django_db(transaction=True)


@database_sync_to_async
def make_sweep(n: int = 3, owner: str = "owner-session") -> tuple[Sweep, list[Run]]:
    sweep = Sweep.objects.create(owner_session=owner, name="lr", method="grid", metric="val_acc", goal="max",
                                 axes=[{"path": "/optimizer/lr", "kind": "values", "values": [0.1 * (i + 1) for i in range(n)]}],
                                 base_spec={})
    runs = []
    for i in range(n):
        run = Run.objects.create(spec={"seed": 0}, owner_session=owner, last_seq=1)
        SweepRun.objects.create(sweep=sweep, run=run, index=i, point=i, values={"/optimizer/lr": 0.1 * (i + 1)},
                                dispatched=True)
        runs.append(run)
    return sweep, runs


async def connect(sweep, headers=None, app=None):
    app = app or URLRouter(websocket_urlpatterns)
    comm = WebsocketCommunicator(app, f"/ws/sweeps/{sweep.public_id}/", headers=headers or [])
    connected, code = await comm.connect()
    assert connected, code
    return comm


async def receive_all(comm, within: float) -> list[dict]:
    """Every message sent until ``within`` seconds have passed with nothing more to read.
    (receive_json_from's timeout would cancel the consumer: wait with receive_nothing.)"""
    out = []
    while not await comm.receive_nothing(timeout=within, interval=0.02):
        out.append(await comm.receive_json_from())
    return out


def start_and_emit(run, pub, events):
    run.claim("test-worker")
    sink = EventSink(run, pub, interval=0.0)
    sink.emit({"type": "status", "status": "running", "message": ""})
    for e in events:
        sink.emit(e)
    return sink


async def test_connect_sends_the_table_like_get():
    sweep, runs = await make_sweep()
    comm = await connect(sweep)
    first = await comm.receive_json_from(timeout=5)
    expected = await database_sync_to_async(services.table)(sweep)
    assert first == {"type": "table", **expected, "is_owner": False}
    assert [r["id"] for r in first["runs"]] == [r.public_id for r in runs]
    await comm.disconnect()


async def test_status_and_epochs_arrive_as_row_updates():
    sweep, runs = await make_sweep()
    comm = await connect(sweep)
    await comm.receive_json_from(timeout=5)
    pub = LayerPublisher()
    epochs = [{"type": "epoch", "epoch": i + 1, "train_loss": 1.0, "val_acc": v} for i, v in enumerate([0.5, 0.8, 0.6])]
    await database_sync_to_async(start_and_emit)(runs[1], pub, epochs)
    steps_of_other_runs = [g for g, _ in pub.sent if g != f"sweep.{sweep.public_id}"]
    assert all(g == runs[1].group for g in steps_of_other_runs)  # the run's own group as before
    await pub.deliver()
    messages = await receive_all(comm, 1.0)
    assert messages and all(m["type"] == "rows" for m in messages)
    # per-run rows, never the whole table: only the run that moved
    assert {r["id"] for m in messages for r in m["runs"]} == {runs[1].public_id}
    last = messages[-1]
    row = [r for m in messages for r in m["runs"]][-1]
    assert row["status"] == "running" and row["final"] == 0.6 and row["best"] == 0.8
    assert last["counts"] == {"queued": 2, "running": 1} and last["done"] is False
    assert {p["point"] for m in messages for p in m["points"]} <= {1}
    await comm.disconnect()


async def test_at_most_about_four_messages_a_second(monkeypatch):
    sweep, runs = await make_sweep()
    comm = await connect(sweep)
    await comm.receive_json_from(timeout=5)
    pub = LayerPublisher()
    sink = await database_sync_to_async(start_and_emit)(runs[0], pub, [])
    await pub.deliver()
    t0 = time.monotonic()
    for i in range(40):  # 40 epochs in ~1 s: ten times what the page is sent
        await database_sync_to_async(sink.emit)({"type": "epoch", "epoch": i + 1, "val_acc": i / 40})
        await pub.deliver()
        await asyncio.sleep(0.025)
    messages = await receive_all(comm, 0.6)
    elapsed = time.monotonic() - t0
    assert 2 <= len(messages) <= elapsed / consumers.MIN_INTERVAL + 2, (len(messages), elapsed)
    rows = [r for m in messages for r in m["runs"]]
    assert rows[-1]["final"] == pytest.approx(39 / 40) and rows[-1]["best"] == pytest.approx(39 / 40)
    await comm.disconnect()


async def test_the_end_of_a_run_and_a_release_update_the_row(monkeypatch, settings):
    settings.SWEEP_ACTIVE_PER_OWNER = 1  # the second run waits for the first
    sweep, runs = await make_sweep(2)
    await database_sync_to_async(SweepRun.objects.filter(run=runs[1]).update)(dispatched=False)
    comm = await connect(sweep)
    table = await comm.receive_json_from(timeout=5)
    assert table["runs"][1]["waiting"] is True
    pub = LayerPublisher()
    monkeypatch.setattr("webapp.runs.publisher.Publisher.get", lambda: pub)
    monkeypatch.setattr("webapp.runs.services.send", lambda run, queue: None)  # no broker here

    def end_first_run():
        sink = start_and_emit(runs[0], pub, [{"type": "epoch", "epoch": 1, "val_acc": 0.9}])
        sink.emit({"type": "summary", "val_acc": 0.9, "epochs_run": 1})
        sink.emit({"type": "status", "status": "succeeded", "message": ""})
        Run.objects.get(pk=runs[0].pk).finish("succeeded", "", {"val_acc": 0.9, "epochs_run": 1})
        services.on_run_finished(runs[0].pk)  # the worker's task_postrun hook: records, releases the next

    await database_sync_to_async(end_first_run)()
    await pub.deliver()
    messages = await receive_all(comm, 1.0)
    rows = {}
    for m in messages:
        rows.update({r["id"]: r for r in m["runs"]})
    assert rows[runs[0].public_id]["status"] == "succeeded" and rows[runs[0].public_id]["final"] == 0.9
    assert rows[runs[1].public_id]["waiting"] is False
    assert messages[-1]["best"] == runs[0].public_id and messages[-1]["top"] == [runs[0].public_id]
    points = {p["point"]: p for m in messages for p in m["points"]}
    assert points[0]["mean"] == 0.9
    await comm.disconnect()


async def test_without_notices_the_socket_heals_and_releases_by_itself(monkeypatch, settings):
    settings.SWEEP_ACTIVE_PER_OWNER = 1
    monkeypatch.setattr(consumers, "RESYNC_INTERVAL", 0.2)
    monkeypatch.setattr("webapp.runs.services.send", lambda run, queue: None)  # no broker here
    monkeypatch.setattr("webapp.runs.publisher.Publisher.get", lambda: LayerPublisher())  # notices lost
    sweep, runs = await make_sweep(2)
    await database_sync_to_async(SweepRun.objects.filter(run=runs[1]).update)(dispatched=False)
    comm = await connect(sweep)
    assert (await comm.receive_json_from(timeout=5))["runs"][1]["waiting"] is True
    # the first run ends and nobody says so (a worker's hooks missed, Redis restarted)
    await database_sync_to_async(lambda: Run.objects.get(pk=runs[0].pk).finish("failed", "lost"))()
    rows = {}
    for m in await receive_all(comm, 1.0):
        rows.update({r["id"]: r for r in m["runs"]})
    assert rows[runs[0].public_id]["status"] == "failed"
    assert rows[runs[1].public_id]["waiting"] is False  # released, as a GET of the table would
    await comm.disconnect()


async def test_owner_is_told_by_the_session_cookie():
    session = SessionStore()
    await database_sync_to_async(session.create)()
    sweep, _ = await make_sweep(1, owner=session.session_key)
    comm = await connect(sweep, headers=[(b"cookie", f"sessionid={session.session_key}".encode())])
    assert (await comm.receive_json_from(timeout=5))["is_owner"] is True
    await comm.disconnect()


async def test_unknown_sweep_and_foreign_origin_are_refused():
    comm = WebsocketCommunicator(URLRouter(websocket_urlpatterns), "/ws/sweeps/nope/")
    connected, code = await comm.connect()
    assert not connected and code == 4404
    sweep, _ = await make_sweep(1)
    app = SameOriginValidator(URLRouter(websocket_urlpatterns))
    comm = WebsocketCommunicator(app, f"/ws/sweeps/{sweep.public_id}/",
                                 headers=[(b"host", b"testserver"), (b"origin", b"http://evil.example")])
    connected, _ = await comm.connect()
    assert not connected
    comm = await connect(sweep, app=app, headers=[(b"host", b"testserver"), (b"origin", b"http://testserver")])
    assert (await comm.receive_json_from(timeout=5))["type"] == "table"
    await comm.send_json_to({"type": "ping"})
    assert await comm.receive_json_from(timeout=5) == {"type": "pong"}
    await comm.disconnect()


@pytest.fixture
def redis_layer(tmp_path, settings):
    """A real Redis channel layer, and the real Publisher (its own thread and loop) on it."""
    from channels.layers import channel_layers

    from webapp.runs.publisher import Publisher
    from webapp.serve import start_redis

    proc, url = start_redis(tmp_path)
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels_redis.core.RedisChannelLayer",
                                           "CONFIG": {"hosts": [url], "capacity": 1000, "expiry": 30}}}
    channel_layers.backends.clear()
    Publisher._instance = None
    yield url
    Publisher._instance = None
    channel_layers.backends.clear()
    proc.terminate()
    proc.wait(10)


async def test_row_updates_through_redis_and_the_real_publisher(redis_layer):
    from webapp.runs.publisher import Publisher

    sweep, runs = await make_sweep(2)
    comm = await connect(sweep)
    await comm.receive_json_from(timeout=5)

    def train_a_little():
        sink = start_and_emit(runs[0], Publisher.get(), [{"type": "epoch", "epoch": 1, "val_acc": 0.4},
                                                         {"type": "epoch", "epoch": 2, "val_acc": 0.7}])
        sink.close()  # drains the publisher: everything is in Redis

    await database_sync_to_async(train_a_little)()
    rows = {}
    deadline = time.monotonic() + 10
    while rows.get(runs[0].public_id, {}).get("final") != 0.7 and time.monotonic() < deadline:
        m = await comm.receive_json_from(timeout=10)
        rows.update({r["id"]: r for r in m["runs"]})
    assert rows[runs[0].public_id]["status"] == "running" and rows[runs[0].public_id]["best"] == 0.7
    await comm.disconnect()
