"""Websocket /ws/runs/<id>/?after=N: the persisted backlog, then live events.

Subscribe first, read the database second, and drop live messages already sent: with
the sink persisting before it publishes, that gives no gap and no duplicate. Stored step
rows hold several steps (``seqs``); ``drop_seen`` trims the one that straddles ``after``.

Live delivery can miss messages (Redis restarted: the group membership and anything in
flight are gone). So a live message that does not follow ``last_seq`` is preceded by
what the database holds in between, and while the run is active a watcher re-joins the
group every few seconds and, when no live message came in that time although the
database has newer events (the viewer went deaf), catches up from the database: a
viewer heals by itself. A viewer that hears live messages never reads the database
again: with a hundred viewers on one run, a periodic read each would cost the web
process far more than the fan-out itself.

Fan-out cost: channels_redis hands the one message it received for this process to
every consumer of the group as the same dict, so the first consumer to send it caches
its JSON text on it and the others send that text (one encoding per process per event,
not one per viewer).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from webapp.runs.events import coalesce, drop_seen
from webapp.runs.models import ACTIVE, Event, Run, group_name

log = logging.getLogger(__name__)
BACKLOG_PAGE = 5000
FIRST_PAGE = 200  # the first page of a backlog is small: a page opened on a long run draws at once
WATCH_INTERVAL = 5.0  # seconds between re-joins (and, if deaf, database catch-ups) while a run is active
TEXT_KEY = "_descent_text"  # the cached JSON of a shared live message (never sent itself)


@database_sync_to_async
def _run(public_id: str):
    return Run.objects.filter(public_id=public_id).values("pk", "status").first()


@database_sync_to_async
def _events_after(run_pk: int, after: int, limit: int = BACKLOG_PAGE) -> list[tuple[int, str, str]]:
    return list(Event.objects.filter(run_id=run_pk, seq__gt=after).order_by("seq")
                .values_list("seq", "type", "payload")[:limit])


@database_sync_to_async
def _progress(run_pk: int) -> tuple[str, int] | None:
    """The run's status and the last seq it persisted."""
    return Run.objects.filter(pk=run_pk).values_list("status", "last_seq").first()


class PingConsumer(AsyncJsonWebsocketConsumer):
    """What the project's sockets share: the only frame a browser sends is a ping; a
    malformed or unknown frame is the client's mistake, answered with an error message
    while the socket stays open (never a 1011); leaving stops the socket's background
    tasks and its group."""

    group: str | None = None

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        try:
            content = json.loads(text_data if text_data is not None else bytes_data)
        except (TypeError, ValueError, UnicodeDecodeError):
            content = None
        if not isinstance(content, dict):
            await self.send_json({"type": "error", "message": "frames must be JSON objects like {\"type\": \"ping\"}"})
        elif content.get("type") == "ping":
            await self.send_json(self.pong())
        else:
            await self.send_json({"type": "error", "message": f"unknown message type {str(content.get('type'))[:40]!r}; "
                                                                "the only one is \"ping\""})

    def pong(self) -> dict:
        return {"type": "pong"}

    async def leave(self, *tasks) -> None:
        for task in tasks:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        if self.group:
            with contextlib.suppress(Exception):
                await self.channel_layer.group_discard(self.group, self.channel_name)


class RunConsumer(PingConsumer):
    async def connect(self):
        self.public_id = self.scope["url_route"]["kwargs"]["public_id"]
        self.group = None
        self.watcher = None
        self.lock = asyncio.Lock()  # backlog and live sends never interleave
        self.heard_at = time.monotonic()  # when the last live event came in
        run = await _run(self.public_id)
        if run is None:
            await self.close(code=4404)
            return
        try:
            self.last_seq = max(0, int(parse_qs(self.scope.get("query_string", b"").decode()).get("after", ["0"])[0]))
        except ValueError:
            self.last_seq = 0
        self.group = group_name(self.public_id)
        self.run_pk = run["pk"]
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        async with self.lock:
            await self.backlog()
            await self.send_json({"type": "live", "last_seq": self.last_seq})
        if run["status"] in ACTIVE:
            self.watcher = asyncio.create_task(self.watch())

    async def backlog(self) -> None:
        """Everything persisted after last_seq, in pages; steps coalesced so a long run
        replays in few messages. Call with the lock held."""
        limit = FIRST_PAGE
        while True:
            rows = await _events_after(self.run_pk, self.last_seq, limit)
            if not rows:
                return
            for message in coalesce(json.loads(p) for _, _, p in rows):
                message = drop_seen(message, self.last_seq)
                if message is not None:
                    await self.send_json(message)
            self.last_seq = rows[-1][0]
            if len(rows) < limit:
                return
            limit = BACKLOG_PAGE

    async def watch(self) -> None:
        while True:
            await asyncio.sleep(WATCH_INTERVAL)
            try:
                await self.channel_layer.group_add(self.group, self.channel_name)
            except Exception as exc:  # Redis away: the database still has everything
                log.debug("re-joining %s failed: %s", self.group, exc)
            row = await _progress(self.run_pk)
            status, stored = row if row is not None else (None, self.last_seq)
            ended = status not in ACTIVE
            deaf = time.monotonic() - self.heard_at >= WATCH_INTERVAL
            if stored > self.last_seq and (ended or deaf):
                async with self.lock:
                    await self.backlog()
            if ended:
                return  # what the run wrote before it ended has been sent

    async def disconnect(self, code):
        await self.leave(self.watcher)

    def pong(self) -> dict:
        return {"type": "pong", "last_seq": self.last_seq}

    async def send_shared(self, message: dict) -> None:
        """Send ``message["event"]`` as it came, encoded once for every viewer in this process."""
        text = message.get(TEXT_KEY)
        if text is None:
            text = message[TEXT_KEY] = await self.encode_json(message["event"])
        await self.send(text_data=text)

    async def run_event(self, message):  # envelope type "run.event" (webapp.runs.events)
        if "seq" not in message["event"]:  # transient notices (queue moves) are not persisted
            await self.send_shared(message)
            return
        self.heard_at = time.monotonic()
        async with self.lock:
            event = message["event"]
            first = event["seqs"][0] if "seqs" in event else event["seq"]
            if first > self.last_seq + 1:  # missed live messages: the database has them
                await self.backlog()
            trimmed = drop_seen(event, self.last_seq)
            if trimmed is None:
                return
            if trimmed is event:
                await self.send_shared(message)
            else:
                await self.send_json(trimmed)
            self.last_seq = trimmed["seq"]


class NoRouteConsumer(AsyncJsonWebsocketConsumer):
    """Any other websocket path: refused at the handshake (HTTP 403), never a 500."""

    async def connect(self):
        await self.close(code=4404)
