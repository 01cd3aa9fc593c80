"""A run: one spec trained once, its status, and the events it streamed."""

from __future__ import annotations

import json
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone

from training.events import ACTIVE, FINISHED, STATUSES  # the one definition of the statuses

__all__ = ["ACTIVE", "FINISHED", "STATUSES", "Run", "Event", "Worker", "group_name"]


def group_name(public_id: str) -> str:
    """The channel group of a run: the sink publishes to it, viewers subscribe to it."""
    return f"run.{public_id}"


def new_public_id() -> str:
    # 96 random bits, URL-safe: the link is the capability to read a run.
    return secrets.token_urlsafe(12)


class Run(models.Model):
    public_id = models.CharField(max_length=32, unique=True, default=new_public_id, editable=False)
    owner_session = models.CharField(max_length=64, db_index=True, blank=True)
    owner_user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="forks")
    name = models.CharField(max_length=200, blank=True)
    spec = models.JSONField()
    status = models.CharField(max_length=16, default="queued", choices=[(s, s) for s in STATUSES], db_index=True)
    error = models.TextField(blank=True)
    summary = models.JSONField(null=True, blank=True)
    stop_requested = models.BooleanField(default=False)
    heartbeat_at = models.DateTimeField(null=True, blank=True, db_index=True)
    # when the task was last handed to the broker (None: held back, e.g. a sweep's waiting run)
    sent_at = models.DateTimeField(null=True, blank=True)
    pinned = models.BooleanField(default=False, help_text="kept by prune_runs whatever its age")
    client_ip = models.GenericIPAddressField(null=True, blank=True, db_index=True)
    last_seq = models.IntegerField(default=0)
    device = models.CharField(max_length=32, blank=True)
    worker = models.CharField(max_length=200, blank=True)
    created = models.DateTimeField(default=timezone.now, db_index=True)
    started = models.DateTimeField(null=True, blank=True)
    finished = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created"]

    def __str__(self) -> str:
        return f"run {self.public_id} ({self.status})"

    @property
    def url(self) -> str:
        return f"/r/{self.public_id}"

    @property
    def ws(self) -> str:
        return f"/ws/runs/{self.public_id}/"

    @property
    def group(self) -> str:
        return group_name(self.public_id)

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE

    def is_owned_by(self, request) -> bool:
        user = getattr(request, "user", None)
        if self.owner_user_id and user is not None and user.is_authenticated:
            return user.pk == self.owner_user_id
        key = request.session.session_key
        return bool(key) and key == self.owner_session

    # -- the only writers of ``status`` (each one conditional UPDATE) ---------------------

    def claim(self, worker: str) -> bool:
        """queued → running, for the one worker that gets there first."""
        now = timezone.now()
        won = Run.objects.filter(pk=self.pk, status="queued").update(
            status="running", started=now, heartbeat_at=now, worker=worker[:200])
        if won:
            self.status, self.started, self.heartbeat_at, self.worker = "running", now, now, worker[:200]
        return bool(won)

    def finish(self, status: str, message: str = "", summary: dict | None = None, device: str | None = None,
               only_from: tuple[str, ...] = ACTIVE) -> bool:
        """An active run → a final status; False when someone else ended it first."""
        if status not in FINISHED:
            raise ValueError(f"{status!r} is not a final status")
        fields = {"status": status, "error": "" if status == "succeeded" else message, "finished": timezone.now()}
        if summary is not None:
            fields["summary"] = summary
        if device:
            fields["device"] = device[:32]
        won = Run.objects.filter(pk=self.pk, status__in=only_from).update(**fields)
        if won:
            for k, v in fields.items():
                setattr(self, k, v)
        return bool(won)

    def request_stop(self) -> str:
        """Queued runs end ``cancelled`` at once ("cancelled" is returned: the caller writes
        the status event); running ones get the flag their trainer polls ("stopping")."""
        if self.finish("cancelled", "cancelled before it started", only_from=("queued",)):
            Run.objects.filter(pk=self.pk).update(stop_requested=True)
            self.stop_requested = True
            return "cancelled"
        Run.objects.filter(pk=self.pk, status="running").update(stop_requested=True)
        self.refresh_from_db(fields=["status", "stop_requested"])
        return "stopping" if self.status == "running" else self.status

    def heartbeat(self) -> bool:
        """The worker is alive; False once the run is no longer running (ended elsewhere)."""
        return bool(Run.objects.filter(pk=self.pk, status="running").update(heartbeat_at=timezone.now()))

    def is_lost(self, now=None) -> bool:
        """Running with no heartbeat for DESCENT_HEARTBEAT_TIMEOUT seconds: its worker is gone."""
        if self.status != "running":
            return False
        now = now or timezone.now()
        last = self.heartbeat_at or self.started or self.created
        return now - last > timedelta(seconds=settings.HEARTBEAT_TIMEOUT)

    def queue_position(self) -> int | None:
        """1 for the next run to start; None once the run has left the queue."""
        if self.status != "queued":
            return None
        # runs held back in the database (a sweep's, waiting for a slot of their owner) are
        # not in the broker's queue yet: they are behind everyone who was sent
        ahead = Run.objects.filter(status="queued", created__lt=self.created, sent_at__isnull=False)
        return ahead.count() + 1

    def as_dict(self, request=None) -> dict:
        return {
            "id": self.public_id,
            "name": self.name,
            "status": self.status,
            "spec": self.spec,
            "created": self.created.isoformat(),
            "started": self.started.isoformat() if self.started else None,
            "finished": self.finished.isoformat() if self.finished else None,
            "seconds": (self.finished - self.started).total_seconds() if self.started and self.finished else None,
            "queue_position": self.queue_position(),
            "summary": self.summary,
            "error": self.error or None,
            "device": self.device or None,
            "last_seq": self.last_seq,
            "parent": self.parent.public_id if self.parent_id else None,
            "is_owner": self.is_owned_by(request) if request is not None else False,
            "url": self.url,
            "ws": self.ws,
        }


class Event(models.Model):
    """One event as streamed; ``payload`` is the JSON text sent to browsers (with seq, type)."""

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="events")
    seq = models.IntegerField()
    type = models.CharField(max_length=32)
    payload = models.TextField()

    class Meta:
        ordering = ["seq"]
        constraints = [models.UniqueConstraint(fields=["run", "seq"], name="event_seq_unique")]

    def data(self) -> dict:
        return json.loads(self.payload)


class WorkerQuerySet(models.QuerySet):
    def alive(self):
        return self.filter(seen_at__gte=timezone.now() - timedelta(seconds=settings.HEARTBEAT_TIMEOUT))


class Worker(models.Model):
    """A Celery worker as it announced itself: what it can run, and when it last said so."""

    name = models.CharField(max_length=200, unique=True)
    cuda = models.BooleanField(default=False)
    queues = models.CharField(max_length=200, blank=True)
    started = models.DateTimeField(default=timezone.now)
    seen_at = models.DateTimeField(default=timezone.now, db_index=True)

    objects = WorkerQuerySet.as_manager()

    def __str__(self) -> str:
        return f"worker {self.name} ({'cuda' if self.cuda else 'cpu'})"
