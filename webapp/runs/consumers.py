"""Websocket /ws/runs/<id>/?after=N: the persisted backlog, then live events.

Subscribe first, read the database second, and drop live messages already sent: with
the sink persisting before it publishes, that gives no gap and no duplicate. Stored step
rows hold several steps (``seqs``); ``drop_seen`` trims the one that straddles ``after``.

Live delivery can miss messages (Redis restarted: the group membership and anything in
flight are gone). So a live message that does not follow ``last_seq`` is preceded by
what the database holds in between, and while the run is active a watcher re-joins the
group and catches up from the database every few seconds: a viewer heals by itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from webapp.runs.events import coalesce, drop_seen
from webapp.runs.models import ACTIVE, Event, Run, group_name

log = logging.getLogger(__name__)
BACKLOG_PAGE = 5000
WATCH_INTERVAL = 5.0  # seconds between re-joins and database catch-ups while a run is active


@database_sync_to_async
def _run(public_id: str):
    return Run.objects.filter(public_id=public_id).values("pk", "status").first()


@database_sync_to_async
def _events_after(run_pk: int, after: int) -> list[tuple[int, str, str]]:
    return list(Event.objects.filter(run_id=run_pk, seq__gt=after).order_by("seq")
                .values_list("seq", "type", "payload")[:BACKLOG_PAGE])


@database_sync_to_async
def _status(run_pk: int) -> str | None:
    return Run.objects.filter(pk=run_pk).values_list("status", flat=True).first()


class RunConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self):
        self.public_id = self.scope["url_route"]["kwargs"]["public_id"]
        self.group = None
        self.watcher = None
        self.lock = asyncio.Lock()  # backlog and live sends never interleave
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
        while True:
            rows = await _events_after(self.run_pk, self.last_seq)
            if not rows:
                return
            for message in coalesce(json.loads(p) for _, _, p in rows):
                message = drop_seen(message, self.last_seq)
                if message is not None:
                    await self.send_json(message)
            self.last_seq = rows[-1][0]
            if len(rows) < BACKLOG_PAGE:
                return

    async def watch(self) -> None:
        while True:
            await asyncio.sleep(WATCH_INTERVAL)
            try:
                await self.channel_layer.group_add(self.group, self.channel_name)
            except Exception as exc:  # Redis away: the database still has everything
                log.debug("re-joining %s failed: %s", self.group, exc)
            status = await _status(self.run_pk)
            async with self.lock:
                await self.backlog()
            if status not in ACTIVE:
                return  # what the run wrote before it ended has been sent

    async def disconnect(self, code):
        if self.watcher is not None:
            self.watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self.watcher
        if self.group:
            with contextlib.suppress(Exception):
                await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        # a malformed frame is the client's mistake: say so, keep the socket (no 1011)
        try:
            content = json.loads(text_data if text_data is not None else bytes_data)
        except (TypeError, ValueError, UnicodeDecodeError):
            await self.send_json({"type": "error", "message": "frames must be JSON objects like {\"type\": \"ping\"}"})
            return
        if not isinstance(content, dict):
            await self.send_json({"type": "error", "message": "frames must be JSON objects like {\"type\": \"ping\"}"})
            return
        await self.receive_json(content, **kwargs)

    async def receive_json(self, content, **kwargs):
        if content.get("type") == "ping":
            await self.send_json({"type": "pong", "last_seq": self.last_seq})
        else:
            await self.send_json({"type": "error", "message": f"unknown message type {str(content.get('type'))[:40]!r}; "
                                                                "the only one is \"ping\""})

    async def run_event(self, message):  # envelope type "run.event" (webapp.runs.events)
        if "seq" not in message["event"]:  # transient notices (queue moves) are not persisted
            await self.send_json(message["event"])
            return
        async with self.lock:
            event = message["event"]
            first = event["seqs"][0] if "seqs" in event else event["seq"]
            if first > self.last_seq + 1:  # missed live messages: the database has them
                await self.backlog()
            event = drop_seen(event, self.last_seq)
            if event is None:
                return
            await self.send_json(event)
            self.last_seq = event["seq"]


class NoRouteConsumer(AsyncJsonWebsocketConsumer):
    """Any other websocket path: refused at the handshake (HTTP 403), never a 500."""

    async def connect(self):
        await self.close(code=4404)
