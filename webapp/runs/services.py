"""Run creation and the rules around it; views stay thin."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction

from training.check import check
from training.spec import Limits, Spec, dump
from webapp.runs.models import Run
from webapp.runs.sink import EventSink


class ApiError(Exception):
    def __init__(self, status: int, errors: list[dict] | str):
        self.status = status
        self.errors = [{"path": "", "message": errors}] if isinstance(errors, str) else errors
        super().__init__(str(self.errors))


def limits() -> Limits:
    return Limits(**settings.LIMITS)


def check_spec(doc) -> tuple[Spec, dict]:
    """Raises training.spec.SpecError (→ 400) with every problem."""
    return check(doc, limits(), settings.UPLOAD_ROOT)


def owner_key(request) -> str:
    if not request.session.session_key:
        request.session.save()
    return request.session.session_key


def queue_for(spec: Spec) -> str:
    return settings.CELERY_GPU_QUEUE if spec.training.device == "cuda" else settings.CELERY_TASK_DEFAULT_QUEUE


def create_run(request, doc, parent: Run | None = None) -> Run:
    spec, _summary = check_spec(doc)
    key = owner_key(request)
    user = request.user if getattr(request, "user", None) and request.user.is_authenticated else None
    active = Run.objects.filter(status__in=("queued", "running"))
    active = active.filter(owner_user=user) if user else active.filter(owner_session=key)
    if active.count() >= settings.MAX_ACTIVE_RUNS_PER_OWNER:
        raise ApiError(429, f"you already have {settings.MAX_ACTIVE_RUNS_PER_OWNER} runs queued or running; "
                            "wait for one to finish or stop one")
    with transaction.atomic():
        run = Run.objects.create(spec=dump(spec), name=spec.name, owner_session=key, owner_user=user, parent=parent)
        # nobody can be watching yet: persisted only, as seq 1
        EventSink(run).emit({"type": "status", "status": "queued", "message": "",
                             "queue_position": run.queue_position()})
        run.last_seq = 1
        queue = queue_for(spec)
        transaction.on_commit(lambda: _enqueue(run.pk, queue))
    return run


def _enqueue(run_pk: int, queue: str) -> None:
    from webapp.runs.tasks import train_run

    train_run.apply_async(args=[run_pk], queue=queue)


def cancel_run(run: Run) -> Run:
    """Queued runs end at once; running ones stop at their next step."""
    from django.utils import timezone

    message = "cancelled before it started"
    # only a queued run can be claimed by a worker, so once it is cancelled nobody else
    # appends events to it: its last status goes through the same sink as the worker's
    updated = Run.objects.filter(pk=run.pk, status="queued").update(
        status="cancelled", stop_requested=True, finished=timezone.now(), error=message)
    if updated:
        run.refresh_from_db()
        sink = EventSink(run, LayerPublisher())
        sink.emit({"type": "status", "status": "cancelled", "message": message})
        sink.close()
    else:
        Run.objects.filter(pk=run.pk).update(stop_requested=True)
    run.refresh_from_db()
    return run


class LayerPublisher:
    """The sink's publisher for the web process: a plain group_send per message.

    (Workers use webapp.runs.publisher.Publisher, a loop of their own; a request thread
    can simply wait for its one message.)
    """

    def send(self, group: str, message: dict) -> None:
        from asgiref.sync import async_to_sync
        from channels.layers import get_channel_layer

        try:
            async_to_sync(get_channel_layer().group_send)(group, message)
        except Exception:  # the event is persisted; late viewers get it from the database
            pass

    def drain(self, timeout: float = 5.0) -> bool:
        return True
