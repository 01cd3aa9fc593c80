"""Publishing to channel groups from synchronous code: the one Publisher of the project.

Used by the worker's sink and by the web process (creation, cancel); messages are
``webapp.runs.events.envelope(event)``.

``async_to_sync(group_send)`` from a Celery task creates and closes an event loop per
call, and channels_redis 4 keeps connection pools per loop: the result is leaked pools
or "Event loop is closed" (django/channels_redis#332). Instead every worker process owns
one long-lived loop in a daemon thread, and messages go through one queue consumed in
order, so publication never blocks training and never reorders events.

Redis going away does not end anything: a failed ``group_send`` is logged (once per
outage) and dropped, the events are in the database already, and the next send uses a
fresh connection from the pool, so publishing resumes by itself when Redis is back.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from concurrent.futures import Future

from channels.layers import get_channel_layer

log = logging.getLogger(__name__)


class Publisher:
    _instance: "Publisher | None" = None
    _lock = threading.Lock()

    def __init__(self) -> None:
        self.pid = os.getpid()
        self.loop = asyncio.new_event_loop()
        self.layer = get_channel_layer()
        self.queue: asyncio.Queue | None = None
        self.failing = False
        ready = threading.Event()
        self.thread = threading.Thread(target=self._run, args=(ready,), name="descent-publisher", daemon=True)
        self.thread.start()
        ready.wait(5)

    def _run(self, ready: threading.Event) -> None:
        asyncio.set_event_loop(self.loop)
        self.queue = asyncio.Queue()
        self.loop.create_task(self._consume())
        ready.set()
        self.loop.run_forever()

    async def _consume(self) -> None:
        while True:
            group, message, done = await self.queue.get()
            try:
                if group is not None:
                    await self.layer.group_send(group, message)
                    if self.failing:
                        self.failing = False
                        log.warning("publishing to the channel layer works again")
            except Exception as exc:  # a broker hiccup must not end the run: events are in the DB
                if not self.failing:
                    log.warning("group_send to %s failed (%s); events stay in the database", group, exc)
                self.failing = True
            finally:
                if done is not None:
                    done.set_result(True)

    @classmethod
    def get(cls) -> "Publisher":
        # after a fork (Celery's prefork pool) the parent's thread does not exist here
        with cls._lock:
            if cls._instance is None or cls._instance.pid != os.getpid():
                cls._instance = cls()
            return cls._instance

    # while the channel layer fails, at most this many messages wait; older ones are dropped
    # (viewers catch up from the database), so an outage cannot grow the worker's memory
    MAX_BACKLOG = 2000

    def send(self, group: str, message: dict) -> None:
        self.loop.call_soon_threadsafe(self._put, (group, message, None))

    def _put(self, item) -> None:
        if self.failing and self.queue.qsize() >= self.MAX_BACKLOG:
            dropped = self.queue.get_nowait()
            if dropped[2] is not None:  # a drain marker: answer it rather than lose it
                dropped[2].set_result(False)
        self.queue.put_nowait(item)

    def drain(self, timeout: float = 5.0) -> bool:
        """Wait until everything sent so far has been handed to the channel layer."""
        done: Future = Future()
        self.loop.call_soon_threadsafe(self.queue.put_nowait, (None, None, done))
        try:
            done.result(timeout)
            return True
        except Exception:
            return False
