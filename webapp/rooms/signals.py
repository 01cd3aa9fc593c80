"""Runs created by a room's students: checked against locked fields, then tagged with the room."""

from __future__ import annotations

from django.db.models.signals import post_save, pre_save
from django.dispatch import receiver

from webapp.runs.models import Run


@receiver(pre_save, sender=Run)
def _check_locked_fields(sender, instance: Run, **kwargs) -> None:
    if instance._state.adding and instance.owner_session and not kwargs.get("raw"):
        from webapp.rooms.services import check_run_allowed

        check_run_allowed(instance)  # ApiError(403) → the API answers it; nothing is created


@receiver(post_save, sender=Run)
def _tag_room_run(sender, instance: Run, created: bool, **kwargs) -> None:
    if created and instance.owner_session and not kwargs.get("raw"):
        from webapp.rooms.services import tag_run

        tag_run(instance)
