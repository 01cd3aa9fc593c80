import secrets

from django.db import models
from django.utils import timezone


def new_upload_id() -> str:
    return "u" + secrets.token_urlsafe(10)


class Upload(models.Model):
    """A user's dataset file, parsed and stored as a canonical .npz under UPLOAD_ROOT."""

    public_id = models.CharField(max_length=32, unique=True, default=new_upload_id, editable=False)
    owner_session = models.CharField(max_length=64, blank=True)
    filename = models.CharField(max_length=255)
    meta = models.JSONField(default=dict)
    created = models.DateTimeField(default=timezone.now)
