"""Classroom rooms: a teacher, students who joined with a code, and their runs.

A student is a browser session (no account); :class:`Member` ties it to a room, and
:class:`RoomRun` tags each run that session creates while it is in the room. Nothing
here changes the runs app's tables.
"""

from __future__ import annotations

import secrets

from django.db import models
from django.utils import timezone

from webapp.runs.models import Run

# no 0/O, 1/I/L: codes are read off a projector and typed on phones
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 6


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def new_teacher_key() -> str:
    return secrets.token_urlsafe(24)


class Room(models.Model):
    code = models.CharField(max_length=CODE_LENGTH, unique=True)
    name = models.CharField(max_length=200)
    teacher_key = models.CharField(max_length=64, default=new_teacher_key)
    teacher_session = models.CharField(max_length=64, blank=True, db_index=True)
    created = models.DateTimeField(default=timezone.now)
    closed = models.DateTimeField(null=True, blank=True)
    # the pushed lesson: {"slug", "title", "lesson", "spec" (full, defaults filled)}; push_seq counts pushes
    lesson = models.JSONField(null=True, blank=True)
    push_seq = models.IntegerField(default=0)
    # while locked, students' runs may differ from the lesson's spec only under these JSON pointers
    locked = models.BooleanField(default=False)
    unlocked = models.JSONField(default=list)
    spotlight = models.ForeignKey(Run, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    @property
    def teacher_url(self) -> str:
        return f"/room/{self.code}?key={self.teacher_key}"

    @property
    def is_open(self) -> bool:
        return self.closed is None


class Member(models.Model):
    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="members")
    session_key = models.CharField(max_length=64, db_index=True)
    name = models.CharField(max_length=60)
    joined = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["joined"]
        constraints = [models.UniqueConstraint(fields=["room", "session_key"], name="room_member_once")]


class RoomRun(models.Model):
    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="room_runs")
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="room_runs")
    run = models.OneToOneField(Run, on_delete=models.CASCADE, related_name="room_run")

    class Meta:
        ordering = ["-run__created"]
