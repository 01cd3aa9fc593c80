"""The Celery task: take a run id, train its spec, record how it ended.

Besides the task: the worker announces itself (webapp.runs.models.Worker, with its CUDA
capability) and, at start, ends the runs it had claimed before it was restarted; while
a run trains, a guard thread writes the run's heartbeat and is the watchdog that ends a
run stuck past its time limit (Celery's time limits do nothing under ``-P solo``).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time

from celery import shared_task
from celery.signals import worker_init, worker_process_init, worker_ready, worker_shutdown
from django.conf import settings
from django.db import close_old_connections, connection
from django.utils import timezone

from training.loop import train
from training.spec import SpecError, validate
from webapp.runs import services
from webapp.runs.events import envelope
from webapp.runs.exports import artifacts_dir
from webapp.runs.models import Run, Worker, group_name
from webapp.runs.publisher import Publisher
from webapp.runs.sink import EventSink

log = logging.getLogger(__name__)
WATCHDOG_EXIT_CODE = 70


def _set_torch_threads(**_kwargs) -> None:
    """Intra-op threads per training process (DESCENT_TORCH_THREADS, default 1).

    The playground's networks are small: with several threads, OpenMP's barriers make
    every step wait for a core that the web server, Redis or another worker holds
    (measured: 4x slower steps on a busy 2-core machine). One worker process a core
    scales better; raise it for big CNNs on a dedicated machine.
    """
    import torch

    torch.set_num_threads(settings.TORCH_THREADS)


worker_process_init.connect(_set_torch_threads)
worker_ready.connect(_set_torch_threads)  # the solo pool trains in the main process


@worker_init.connect
def _lower_priority(**_kwargs) -> None:
    """Training yields the CPU to the web server (DESCENT_WORKER_NICE, default 5).

    On a machine shared by daphne and workers, training at the same priority starves the
    process that fans events out to viewers: with five runs on two cores, a hundred
    viewers lagged by seconds. Training is throughput, the page is latency. Set once in
    the worker's main process (pool children inherit it); 0 leaves the priority alone.
    """
    if settings.WORKER_NICE > 0:
        try:
            os.nice(settings.WORKER_NICE)
        except OSError as exc:
            log.warning("could not lower the worker's priority: %s", exc)


def _has_cuda() -> bool:
    try:
        import torch

        return bool(torch.cuda.is_available())
    except Exception:
        return False


def _presence_loop(name: str) -> None:
    """Keep this worker's Worker row fresh (health check, `device: cuda` at creation)."""
    while True:
        time.sleep(settings.HEARTBEAT_INTERVAL)
        try:
            Worker.objects.filter(name=name).update(seen_at=timezone.now())
        except Exception as exc:  # the database is briefly locked or away: try again
            log.warning("worker presence not recorded: %s", exc)
        finally:
            connection.close()


@worker_ready.connect
def _announce_worker(sender=None, **_kwargs) -> None:
    name = getattr(sender, "hostname", None) or socket.gethostname()
    queues = ",".join(sorted(q.name for q in sender.app.amqp.queues.consume_from.values())) if sender else ""
    Worker.objects.update_or_create(name=name, defaults={"cuda": _has_cuda(), "queues": queues,
                                                         "started": timezone.now(), "seen_at": timezone.now()})
    # a worker of this name that is starting cannot be running anything: its runs are orphans
    orphans = services.reap_worker(name)
    services.reap()
    if orphans:
        log.warning("ended %d runs this worker had before it restarted", len(orphans))
    connection.close()
    threading.Thread(target=_presence_loop, args=(name,), name="descent-presence", daemon=True).start()


@worker_shutdown.connect
def _retire_worker(sender=None, **_kwargs) -> None:
    try:
        Worker.objects.filter(name=getattr(sender, "hostname", "")).delete()
    except Exception:
        pass


def _announce_queue(publisher: Publisher) -> None:
    """Tell viewers of every waiting run where it now stands (transient, not persisted)."""
    queued = Run.objects.filter(status="queued").order_by("created").values_list("public_id", flat=True)[:200]
    for position, public_id in enumerate(queued, start=1):
        publisher.send(group_name(public_id), envelope({"type": "queue", "queue_position": position}))


class RunGuard(threading.Thread):
    """Heartbeat and watchdog of one run, beside the training thread.

    Every HEARTBEAT_INTERVAL seconds it writes ``Run.heartbeat_at`` (whatever the trainer
    is doing: a landscape chunk, a big evaluation). Past the run's time limit plus
    WATCHDOG_GRACE it ends the run ``timed_out`` itself and exits the process: the trainer
    should have stopped at its deadline, so it is stuck where it does not poll; the
    launcher (or the worker's supervisor) starts a fresh worker.
    """

    def __init__(self, run: Run, max_seconds: float):
        super().__init__(name=f"descent-guard-{run.public_id}", daemon=True)
        self.the_run, self.max_seconds = run, max_seconds
        self.done = threading.Event()
        self.t0 = time.monotonic()

    def run(self) -> None:  # threading.Thread's entry point
        try:
            while not self.done.wait(settings.HEARTBEAT_INTERVAL):
                try:
                    self.the_run.heartbeat()
                except Exception as exc:
                    log.warning("heartbeat of run %s not written: %s", self.the_run.public_id, exc)
                if time.monotonic() - self.t0 > self.max_seconds + settings.WATCHDOG_GRACE:
                    self._expire()
        finally:
            connection.close()

    def _expire(self) -> None:
        message = f"time limit reached ({self.max_seconds:.0f} s); the worker was restarted to stop it"
        log.error("run %s: %s", self.the_run.public_id, message)
        self.done.set()
        try:
            services.end_run(self.the_run, "timed_out", message, only_from=("running",))
        finally:
            os._exit(WATCHDOG_EXIT_CODE)

    def stop(self) -> None:
        self.done.set()
        self.join(5)


def _max_seconds(spec_doc: dict) -> float:
    limit = float(settings.LIMITS["max_seconds"])
    own = (spec_doc.get("training") or {}).get("max_seconds")
    return min(limit, float(own)) if own else limit


@shared_task(name=services.TASK_NAME, bind=True)
def train_run(self, run_pk: int) -> str:
    close_old_connections()
    run = Run.objects.filter(pk=run_pk).first()
    if run is None:
        return "missing"
    # 1. claim the run; a redelivered task finds it claimed and leaves it to the reaper
    worker = self.request.hostname or socket.gethostname()
    if not run.claim(worker):
        run.refresh_from_db()
        if run.is_lost():
            services.reap()
        return run.status
    publisher = Publisher.get()
    _announce_queue(publisher)
    sink = EventSink(run, publisher)
    guard = RunGuard(run, _max_seconds(run.spec))
    guard.start()
    # 2. train; the trainer emits its own final status event for every ordinary ending
    summary = device = None
    try:
        result = train(validate(run.spec, services.limits()), sink, upload_root=settings.UPLOAD_ROOT,
                       limits=services.limits(), artifacts_dir=artifacts_dir(run.public_id))
        status, message, summary, device = result.status, result.message, result.summary, result.device
    except SpecError as exc:
        status, message = "failed", f"invalid spec: {exc}"
        sink.emit({"type": "status", "status": status, "message": message})
    except Exception as exc:  # the run fails with its message; the worker lives on
        log.exception("run %s failed", run.public_id)
        status, message = "failed", f"{type(exc).__name__}: {exc}"
        sink.emit({"type": "status", "status": status, "message": message})
    # 3. record the ending only after every event is persisted and published
    finally:
        guard.stop()
        sink.close()
    if not run.finish(status, message, summary, device):
        run.refresh_from_db(fields=["status"])  # ended elsewhere (reaped): that ending stands
        return run.status
    return status
