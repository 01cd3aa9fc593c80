"""A sweep: one base spec, axes of values, and the ordinary runs it fans out to.

Each run of a sweep is a plain :class:`webapp.runs.models.Run` (its own page, share
link, landscape); :class:`SweepRun` tags it with the sweep, the point's axis values and
its repeat, without touching the runs app's tables.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone

from webapp.runs.models import Run


def new_public_id() -> str:
    return secrets.token_urlsafe(9)


class Sweep(models.Model):
    public_id = models.CharField(max_length=32, unique=True, default=new_public_id, editable=False)
    owner_session = models.CharField(max_length=64, db_index=True, blank=True)
    owner_user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    name = models.CharField(max_length=200, blank=True)
    method = models.CharField(max_length=16)
    axes = models.JSONField()  # [Axis.describe()]
    samples = models.IntegerField(null=True, blank=True)
    repeats = models.IntegerField(default=1)
    metric = models.CharField(max_length=32)
    goal = models.CharField(max_length=8)
    base_spec = models.JSONField()
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created"]

    @property
    def url(self) -> str:
        return f"/s/{self.public_id}"

    def is_owned_by(self, request) -> bool:
        user = getattr(request, "user", None)
        if self.owner_user_id and user is not None and user.is_authenticated:
            return user.pk == self.owner_user_id
        key = request.session.session_key
        return bool(key) and key == self.owner_session


class SweepRun(models.Model):
    sweep = models.ForeignKey(Sweep, on_delete=models.CASCADE, related_name="members")
    run = models.OneToOneField(Run, on_delete=models.CASCADE, related_name="sweep_member")
    index = models.IntegerField()  # order of creation (point-major, then repeat)
    point = models.IntegerField()  # runs of one point differ only in their seed
    repeat = models.IntegerField(default=0)
    values = models.JSONField()  # {axis path: value}
    # False while the run waits in the database for a slot of its owner (fairness);
    # True once sent to the broker
    dispatched = models.BooleanField(default=False, db_index=True)
    # the metric, recorded once the run has ended (so the table needn't read events again)
    final = models.FloatField(null=True, blank=True)
    best = models.FloatField(null=True, blank=True)
    recorded = models.BooleanField(default=False)

    class Meta:
        ordering = ["index"]
