"""The Celery task: take a run id, train its spec, record how it ended."""

from __future__ import annotations

import logging
import socket

from celery import shared_task
from celery.signals import worker_process_init, worker_ready
from django.conf import settings
from django.utils import timezone

from training.loop import train
from training.spec import SpecError, validate
from webapp.runs.models import Run
from webapp.runs.publisher import Publisher
from webapp.runs.services import limits
from webapp.runs.sink import EventSink

log = logging.getLogger(__name__)


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


def _finish(run_pk: int, status: str, error: str = "", summary: dict | None = None) -> None:
    fields = {"status": status, "error": error, "finished": timezone.now()}
    if summary is not None:
        fields["summary"] = summary
    Run.objects.filter(pk=run_pk).update(**fields)


def _announce_queue(publisher: Publisher) -> None:
    """Tell viewers of every waiting run where it now stands (transient, not persisted)."""
    queued = Run.objects.filter(status="queued").order_by("created").values_list("public_id", flat=True)[:200]
    for position, public_id in enumerate(queued, start=1):
        publisher.send(f"run.{public_id}", {"type": "run.event",
                                            "event": {"type": "queue", "queue_position": position}})


@shared_task(name="runs.train")
def train_run(run_pk: int) -> str:
    # 1. claim the run; a redelivered task finds it running (its worker died) and fails it
    claimed = Run.objects.filter(pk=run_pk, status="queued").update(
        status="running", started=timezone.now(), worker=socket.gethostname())
    if not claimed:
        run = Run.objects.filter(pk=run_pk).first()
        if run is not None and run.status == "running":
            lost = "the worker running this run was lost"
            sink = EventSink(run, Publisher.get())
            sink.emit({"type": "status", "status": "failed", "message": lost})
            sink.close()
            _finish(run_pk, "failed", lost)
        return run.status if run else "missing"
    run = Run.objects.get(pk=run_pk)
    publisher = Publisher.get()
    _announce_queue(publisher)
    sink = EventSink(run, publisher)
    # 2. train; the trainer emits its own final status for every ordinary ending
    try:
        spec = validate(run.spec, limits())
        train(spec, sink, upload_root=settings.UPLOAD_ROOT, limits=limits())
        status, error = sink.final_status or "failed", ""
        if status != "succeeded":
            error = sink.final_message
    except SpecError as exc:
        status, error = "failed", f"invalid spec: {exc}"
        sink.emit({"type": "status", "status": status, "message": error})
    except Exception as exc:  # the run fails with its message; the worker lives on
        log.exception("run %s failed", run.public_id)
        status, error = "failed", f"{type(exc).__name__}: {exc}"
        sink.emit({"type": "status", "status": status, "message": error})
    # 3. record the ending only after every event is persisted and published
    finally:
        sink.close()
    _finish(run_pk, status, error, sink.summary)
    return status
