"""A run: one spec trained once, its status, and the events it streamed."""

from __future__ import annotations

import json
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone

ACTIVE = ("queued", "running")
FINISHED = ("succeeded", "failed", "cancelled", "diverged", "timed_out")
STATUSES = ACTIVE + FINISHED


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
        return f"run.{self.public_id}"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE

    def is_owned_by(self, request) -> bool:
        user = getattr(request, "user", None)
        if self.owner_user_id and user is not None and user.is_authenticated:
            return user.pk == self.owner_user_id
        key = request.session.session_key
        return bool(key) and key == self.owner_session

    def queue_position(self) -> int | None:
        """1 for the next run to start; None once the run has left the queue."""
        if self.status != "queued":
            return None
        return Run.objects.filter(status="queued", created__lt=self.created).count() + 1

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
