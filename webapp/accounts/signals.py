"""On login, what this browser made anonymously becomes the account's.

Django's login() gives the session a new key before it sends ``user_logged_in``; the
request still carries the old key in its cookie, and that is the key the anonymous runs
and uploads were saved under.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

log = logging.getLogger(__name__)


def adopt(user, old_key: str, new_key: str) -> int:
    """Move what session ``old_key`` owns to ``user`` and the new session; returns how many rows.

    Every model with an ``owner_session`` takes part (runs, uploads, sweeps, as the apps
    exist): rows without an account get ``user``; all follow the new key. Rooms follow
    by ``teacher_session`` and their members by ``session_key``.
    """
    from django.apps import apps

    if not old_key:
        return 0
    moved = 0
    for model in apps.get_models():
        if model._meta.app_label == "sessions":  # Django's own Session rows are keyed by session_key
            continue
        names = {f.name for f in model._meta.get_fields()}
        if "owner_session" in names:
            rows = model.objects.filter(owner_session=old_key)
            if "owner_user" in names:
                moved += rows.filter(owner_user__isnull=True).update(owner_user=user, owner_session=new_key)
                rows.filter(owner_user=user).update(owner_session=new_key)
            else:
                moved += rows.update(owner_session=new_key)
        # a teacher keeps their room, a student their membership
        for field in ("teacher_session", "session_key"):
            if field in names:
                moved += model.objects.filter(**{field: old_key}).update(**{field: new_key})
    return moved


@receiver(user_logged_in)
def adopt_anonymous_runs(sender, request, user, **kwargs):
    if request is None:
        return
    old_key = request.COOKIES.get(settings.SESSION_COOKIE_NAME, "")
    new_key = request.session.session_key or ""
    if old_key and old_key != new_key:
        moved = adopt(user, old_key, new_key)
        if moved:
            log.info("anonymous rows moved to account", extra={"user_id": user.pk, "rows": moved})
