"""Run creation, stopping and the rules around them; views and tasks stay thin.

The task is sent by name (``runs.train``), so this module never imports webapp.runs.tasks
(the task imports this one).
"""

from __future__ import annotations

import json
import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from training.check import check
from training.spec import Limits, Spec, dump
from webapp.runs.events import envelope
from webapp.runs.models import ACTIVE, Run, Worker
from webapp.runs.publisher import Publisher
from webapp.runs.sink import EventSink

log = logging.getLogger(__name__)

TASK_NAME = "runs.train"
LOST = "the worker running this run was lost (no heartbeat for {:.0f} s)"


class ApiError(Exception):
    def __init__(self, status: int, errors: list[dict] | str, headers: dict | None = None):
        self.status = status
        self.errors = [{"path": "", "message": errors}] if isinstance(errors, str) else errors
        self.headers = headers or {}
        super().__init__(str(self.errors))


def limits() -> Limits:
    return Limits(**settings.LIMITS)


def check_spec(doc) -> tuple[Spec, dict]:
    """Raises training.spec.SpecError (→ 400) with every problem."""
    from training.weights import check_init_from
    from webapp.runs.exports import weights_file

    spec, summary = check(doc, limits(), settings.UPLOAD_ROOT)
    check_init_from(spec, weights_file)  # model.init_from must name a run whose weights exist
    return spec, summary


def owner_key(request) -> str:
    if not request.session.session_key:
        request.session.save()
    return request.session.session_key


def client_ip(request) -> str:
    if getattr(settings, "TRUST_X_FORWARDED_FOR", False) and request.META.get("HTTP_X_FORWARDED_FOR"):
        return request.META["HTTP_X_FORWARDED_FOR"].split(",")[-1].strip()[:64]
    return request.META.get("REMOTE_ADDR", "")[:64]


def queue_for(spec: Spec) -> str:
    return settings.CELERY_GPU_QUEUE if spec.training.device == "cuda" else settings.CELERY_TASK_DEFAULT_QUEUE


def task_id(run: Run) -> str:
    """Deterministic, so the reaper can tell which runs' messages the broker still holds."""
    return f"run-{run.public_id}"


def send(run: Run, queue: str) -> None:
    """Hand the run to the broker; raises when the broker is unreachable."""
    from webapp.celery import app

    app.send_task(TASK_NAME, args=[run.pk], queue=queue, task_id=task_id(run),
                  retry=True, retry_policy={"max_retries": 2, "interval_start": 0.2, "interval_step": 0.3})
    Run.objects.filter(pk=run.pk).update(sent_at=timezone.now())


def _check_capacity(request, key: str, user) -> None:
    """Per owner, per client IP and in total: a dropped cookie does not reset the count."""
    retry = {"Retry-After": "30"}
    active = Run.objects.filter(status__in=ACTIVE)
    # a sweep's runs held back for fairness (queued, never sent) do not take the owner's slots
    sent = active.exclude(status="queued", sent_at__isnull=True)
    mine = sent.filter(owner_user=user) if user else sent.filter(owner_session=key)
    if mine.count() >= settings.MAX_ACTIVE_RUNS_PER_OWNER:
        raise ApiError(429, f"you already have {settings.MAX_ACTIVE_RUNS_PER_OWNER} runs queued or running; "
                            "wait for one to finish or stop one", retry)
    ip = client_ip(request)
    if ip and sent.filter(client_ip=ip).count() >= settings.MAX_ACTIVE_RUNS_PER_IP:
        raise ApiError(429, f"{settings.MAX_ACTIVE_RUNS_PER_IP} runs from your network address are queued or "
                            "running; wait for one to finish", retry)
    if active.count() >= settings.MAX_QUEUED_RUNS:
        raise ApiError(429, f"the server's queue is full ({settings.MAX_QUEUED_RUNS} runs); try again later", retry)


def _check_device(spec: Spec) -> None:
    if spec.training.device == "cuda" and not Worker.objects.alive().filter(cuda=True).exists():
        raise ApiError(400, [{"path": "/training/device",
                              "message": "no worker with a GPU is running; use \"auto\" or \"cpu\""}])


def create_run(request, doc, parent: Run | None = None) -> Run:
    spec, _summary = check_spec(doc)
    key = owner_key(request)
    user = request.user if getattr(request, "user", None) and request.user.is_authenticated else None
    reap()  # a lost run must not hold a slot
    _check_capacity(request, key, user)
    _check_device(spec)
    with transaction.atomic():
        run = Run.objects.create(spec=dump(spec), name=spec.name, owner_session=key, owner_user=user,
                                 parent=parent, client_ip=client_ip(request) or None)
        # nobody can be watching yet: persisted only, as seq 1
        EventSink(run).emit({"type": "status", "status": "queued", "message": "",
                             "queue_position": run.queue_position()})
        run.last_seq = 1
    # 2. the broker, after the commit (a worker must find the row); if it cannot take
    # the task, the run never existed: nothing is left `queued` that no worker will see
    try:
        send(run, queue_for(spec))
    except Exception as exc:
        log.warning("could not queue run %s: %s", run.public_id, exc)
        run.delete()
        raise ApiError(503, "the queue is unavailable right now (the broker did not accept the run); "
                            "try again in a moment", {"Retry-After": "10"}) from None
    return run


def publish(run: Run, event: dict) -> None:
    Publisher.get().send(run.group, envelope(event))


def end_run(run: Run, status: str, message: str, summary: dict | None = None, device: str | None = None,
            only_from: tuple[str, ...] = ACTIVE) -> bool:
    """Finish a run from outside its trainer: the status row and its status event, once.

    Only the caller whose conditional UPDATE won writes the event, numbered after the
    last persisted one, so seqs stay contiguous.
    """
    if not run.finish(status, message, summary, device, only_from=only_from):
        return False
    run.refresh_from_db(fields=["last_seq"])
    sink = EventSink(run, Publisher.get())
    sink.emit({"type": "status", "status": status, "message": message})
    sink.close()
    return True


def cancel_run(run: Run) -> Run:
    """Queued runs end at once; running ones stop at their next check; lost ones end now."""
    if run.is_lost():
        end_run(run, "cancelled", "cancelled; its worker had stopped answering", only_from=("running",))
    elif run.request_stop() == "cancelled":
        run.refresh_from_db(fields=["last_seq"])
        sink = EventSink(run, Publisher.get())
        sink.emit({"type": "status", "status": "cancelled", "message": run.error})
        sink.close()
    run.refresh_from_db()
    return run


# -- healing ---------------------------------------------------------------------------

def reap(now=None) -> list[str]:
    """Fail every running run whose worker stopped writing its heartbeat. Returns their ids.

    Called by the launcher's loop, at worker start, and whenever the API touches runs.
    """
    now = now or timezone.now()
    stale = now - timedelta(seconds=settings.HEARTBEAT_TIMEOUT)
    ended = []
    silent = Q(heartbeat_at__lt=stale) | Q(heartbeat_at__isnull=True, started__lt=stale)
    for run in Run.objects.filter(silent, status="running"):
        if end_run(run, "failed", LOST.format(settings.HEARTBEAT_TIMEOUT), only_from=("running",)):
            log.warning("run %s: %s", run.public_id, run.error)
            ended.append(run.public_id)
    return ended


def reap_worker(worker: str) -> list[str]:
    """Runs a worker of this name had claimed: at its (re)start they are orphans at once."""
    ended = []
    for run in Run.objects.filter(status="running", worker=worker):
        if end_run(run, "failed", "the worker running this run was lost (it restarted)", only_from=("running",)):
            ended.append(run.public_id)
    return ended


def end_all_active(message: str = "the server was stopped") -> list[str]:
    """Shutdown and start-up sweep: nothing stays active without a server to run it."""
    ended = []
    for run in Run.objects.filter(status__in=ACTIVE):
        if end_run(run, "cancelled", message):
            ended.append(run.public_id)
    return ended


def _broker_task_ids() -> set[str] | None:
    """Task ids of the messages the Redis broker holds (queued or unacknowledged); None if unknown."""
    url = settings.CELERY_BROKER_URL
    if not url.startswith("redis"):
        return None
    import redis

    client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
    ids: set[str] = set()
    try:
        raw = []
        for queue in (settings.CELERY_TASK_DEFAULT_QUEUE, settings.CELERY_GPU_QUEUE):
            raw += client.lrange(queue, 0, -1)
        raw += [json.loads(v)[0] if v else None for v in client.hvals("unacked")]
        for item in raw:
            msg = json.loads(item) if isinstance(item, (bytes, str)) else item
            if isinstance(msg, dict):
                ids.add(msg.get("headers", {}).get("id", ""))
    finally:
        client.close()
    return ids


def resend_lost_queued(min_age: float = 10.0) -> list[str]:
    """Queued runs whose message the broker no longer holds (Redis restarted) are sent again.

    Only runs that were sent (``sent_at``): runs held back on purpose (a sweep's waiting
    runs) stay where they are. A duplicate is harmless: only one task can claim a run.
    """
    old = Run.objects.filter(status="queued", sent_at__lt=timezone.now() - timedelta(seconds=min_age))
    # a sweep's runs wait in the database for their owner's turn (webapp.sweeps.services.release)
    old = old.exclude(sweep_member__dispatched=False)
    if not old.exists():
        return []
    ids = _broker_task_ids()
    if ids is None:
        return []
    resent = []
    for run in old:
        if task_id(run) not in ids:
            send(run, queue_for_doc(run.spec))
            resent.append(run.public_id)
    return resent


def queue_for_doc(spec_doc: dict) -> str:
    device = (spec_doc.get("training") or {}).get("device")
    return settings.CELERY_GPU_QUEUE if device == "cuda" else settings.CELERY_TASK_DEFAULT_QUEUE


def fail_stranded_gpu_runs(now=None) -> list[str]:
    """Queued ``device: cuda`` runs fail once no CUDA worker has been seen for
    ``DESCENT_GPU_WAIT_SECONDS``: creation refuses cuda without a live GPU worker, and
    this bounds the wait when that worker goes away afterwards (never queued forever)."""
    now = now or timezone.now()
    wait = settings.GPU_WAIT_SECONDS
    cutoff = now - timedelta(seconds=wait)
    last_gpu = Worker.objects.filter(cuda=True).order_by("-seen_at").values_list("seen_at", flat=True).first()
    if last_gpu is not None and last_gpu >= cutoff:
        return []
    ended = []
    # asked of the database: on a machine without a GPU this runs every healing pass
    for run in Run.objects.filter(status="queued", created__lt=cutoff, spec__training__device="cuda"):
        if end_run(run, "failed", f"no GPU worker has been available for {wait:.0f} s, so this run (device: cuda) "
                                  "could not start; run it again on the CPU or when a GPU worker is back",
                   only_from=("queued",)):
            log.warning("run %s: %s", run.public_id, run.error)
            ended.append(run.public_id)
    return ended


def heal() -> dict:
    """One pass of every repair: the launcher calls it every few seconds."""
    out = {"reaped": reap(), "stranded": fail_stranded_gpu_runs()}
    try:
        out["resent"] = resend_lost_queued()
    except Exception as exc:  # broker down: next pass
        out["resent_error"] = str(exc)
    return out
