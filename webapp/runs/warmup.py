"""Warm the Celery worker up when it starts, so that the first run is as fast as the next.

Registered from :meth:`webapp.runs.apps.RunsConfig.ready`. With the solo pool (one
process that receives and trains) ``worker_ready`` fires in that very process, before it
takes its first task, and the warm-up runs there; with a prefork pool every child warms
itself up in ``worker_process_init``. ``DESCENT_WARMUP=0`` turns it off (the latency
bench compares both).
"""

from __future__ import annotations

import logging

from celery.signals import worker_process_init, worker_ready

from webapp.env import env_bool

log = logging.getLogger(__name__)


def _warm(where: str) -> None:
    if not env_bool("DESCENT_WARMUP", True):
        return
    from training.warmup import warm_up

    try:
        timings = warm_up()
        _warm_webapp_side()
    except Exception:  # a warm-up must never keep the worker from starting
        log.exception("warm-up failed (%s); the first run will pay for it", where)
        return
    log.info("warm-up done (%s): %s", where, ", ".join(f"{k} {v:.2f}s" for k, v in timings.items()))


def _warm_webapp_side() -> None:
    """The database connection and the event publisher the first run would open."""
    from django.db import connection

    from webapp.runs.publisher import Publisher

    connection.ensure_connection()
    Publisher.get()


def on_worker_ready(sender=None, **_kwargs) -> None:
    pool = type(getattr(sender, "pool", None)).__module__ or ""
    if pool.endswith(("solo", "thread", "threads")):  # tasks run in this process
        _warm("worker_ready")


def on_process_init(**_kwargs) -> None:
    _warm("worker_process_init")


worker_ready.connect(on_worker_ready, weak=False)
worker_process_init.connect(on_process_init, weak=False)
