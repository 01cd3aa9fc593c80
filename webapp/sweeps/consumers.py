"""Websocket /ws/sweeps/<id>/: the sweep's table, then the rows that change.

1. Join the sweep's group (webapp/sweeps/live.py) first, read the table second: a change
   between the two arrives as a notice and is read again, never lost.
2. Notices mark runs dirty. At most every ``MIN_INTERVAL`` seconds the dirty rows are
   brought up to date (an epoch notice carries its metric; any other notice reads the
   row from the database), the table's aggregates are recomputed from the rows held here
   (``services.aggregate``, the same code as GET), and one ``rows`` message carries the
   rows and points that differ from what this socket last sent.
3. While the sweep is not done, every ``RESYNC_INTERVAL`` seconds the socket re-joins the
   group and reads its active rows again: notices lost with a Redis restart heal by
   themselves. It also releases waiting runs, as each GET of the table does (the fallback
   for a worker's missed ``task_postrun`` hook, now that the page no longer polls).
"""

from __future__ import annotations

import asyncio
import json
import logging
from types import SimpleNamespace

from channels.db import database_sync_to_async

from webapp.runs.consumers import PingConsumer
from webapp.runs.models import ACTIVE
from webapp.sweeps import live, services
from webapp.sweeps.models import Sweep

log = logging.getLogger(__name__)
MIN_INTERVAL = 0.25  # ≤ 4 messages a second a socket, however many runs report at once
RESYNC_INTERVAL = 5.0


@database_sync_to_async
def _load(public_id: str, scope) -> tuple[Sweep, dict] | None:
    sweep = Sweep.objects.filter(public_id=public_id).first()
    if sweep is None:
        return None
    services.release(sweep.owner_session, sweep.owner_user_id)  # as GET does: if a worker's hook was missed
    body = services.table(sweep)
    who = SimpleNamespace(user=scope.get("user"), session=scope.get("session"))
    body["is_owner"] = bool(who.session is not None and sweep.is_owned_by(who))
    return sweep, body


@database_sync_to_async
def _rows(sweep: Sweep, run_ids: list[str]) -> list[dict]:
    return services.rows(sweep, run_ids)


@database_sync_to_async
def _release(sweep: Sweep) -> int:
    return services.release(sweep.owner_session, sweep.owner_user_id)


class SweepConsumer(PingConsumer):
    async def connect(self):
        self.public_id = self.scope["url_route"]["kwargs"]["public_id"]
        self.group = None
        self.flusher = self.watcher = None
        self.lock = asyncio.Lock()
        self.dirty: set[str] = set()  # rows to read again from the database
        self.touched: set[str] = set()  # rows changed here by epoch notices
        self.last_flush = float("-inf")
        self.group = live.group_name(self.public_id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        loaded = await _load(self.public_id, self.scope)
        if loaded is None:
            await self.channel_layer.group_discard(self.group, self.channel_name)
            self.group = None
            await self.close(code=4404)
            return
        self.sweep, body = loaded
        self.rows = {r["id"]: r for r in body["runs"]}
        self.sent_rows = {k: json.dumps(v, sort_keys=True) for k, v in self.rows.items()}
        self.sent_points = {p["point"]: json.dumps(p, sort_keys=True) for p in body["points"]}
        self.done = body["done"]
        await self.accept()
        await self.send_json({"type": "table", **body})
        self.watcher = asyncio.create_task(self.watch())

    # -- notices (envelope "sweep.run", webapp/sweeps/live.py) --------------------------------

    async def sweep_run(self, message):
        run_id = message.get("run")
        if run_id not in self.rows:
            return
        async with self.lock:  # not in the middle of a flush's database read (it would overwrite this)
            if message.get("event") == "epoch":
                row = self.rows[run_id]
                value = message.get("value")
                if value is not None and row["status"] == "running":
                    row["final"] = value
                    better = max if self.sweep.goal == "max" else min
                    row["best"] = value if row["best"] is None else better(row["best"], value)
                    self.touched.add(run_id)
            else:  # a status moved, or the run ended or was sent to the broker: the database knows
                self.dirty.add(run_id)
        self.schedule()

    def schedule(self) -> None:
        if self.flusher is None or self.flusher.done():
            delay = max(0.0, self.last_flush + MIN_INTERVAL - asyncio.get_running_loop().time())
            self.flusher = asyncio.create_task(self.flush_after(delay))

    async def flush_after(self, delay: float) -> None:
        await asyncio.sleep(delay)
        try:
            await self.flush()
        except Exception:  # a database hiccup: the next notice or resync tries again
            log.exception("sweep %s: sending row updates failed", self.public_id)
        self.last_flush = asyncio.get_running_loop().time()
        if self.dirty or self.touched:
            self.flusher = asyncio.create_task(self.flush_after(MIN_INTERVAL))

    async def flush(self) -> None:
        async with self.lock:
            dirty, self.dirty = self.dirty, set()
            self.touched.clear()
            if dirty:
                for r in await _rows(self.sweep, sorted(dirty)):
                    self.rows[r["id"]] = r
            rows = list(self.rows.values())
            agg = services.aggregate(self.sweep.metric, self.sweep.goal, rows)
            changed_rows = []
            for r in rows:
                text = json.dumps(r, sort_keys=True)
                if self.sent_rows.get(r["id"]) != text:
                    self.sent_rows[r["id"]] = text
                    changed_rows.append(r)
            changed_points = []
            for p in agg["points"]:
                text = json.dumps(p, sort_keys=True)
                if self.sent_points.get(p["point"]) != text:
                    self.sent_points[p["point"]] = text
                    changed_points.append(p)
            self.done = agg["done"]
            if changed_rows or changed_points:
                await self.send_json({"type": "rows", "runs": changed_rows, "points": changed_points,
                                      "counts": agg["counts"], "done": agg["done"], "best": agg["best"], "top": agg["top"]})

    async def watch(self) -> None:
        while True:
            await asyncio.sleep(RESYNC_INTERVAL)
            if self.done:
                continue  # nothing can change any more, but a socket stays quiet rather than closing
            try:
                await self.channel_layer.group_add(self.group, self.channel_name)
            except Exception as exc:  # Redis away: the database still has everything
                log.debug("re-joining %s failed: %s", self.group, exc)
            try:
                if any(r["waiting"] for r in self.rows.values()):
                    await _release(self.sweep)  # the fallback that the page's polls used to be
            except Exception:  # the broker is away: the runs stay waiting, the next pass tries
                log.exception("sweep %s: releasing waiting runs failed", self.public_id)
            self.dirty.update(k for k, r in self.rows.items() if r["status"] in ACTIVE)
            self.schedule()

    async def disconnect(self, code):
        await self.leave(self.watcher, self.flusher)
