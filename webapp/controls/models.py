"""Live-control commands on their way from a browser to the worker that trains the run.

The database carries them (not process memory), so the page and the worker may be on
different machines: the API inserts a row, the run's sink takes pending rows between
batches (webapp.runs.sink.EventSink.poll_controls), and the trainer records what it
applied as a ``control`` event.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class ControlCommand(models.Model):
    run = models.ForeignKey("runs.Run", on_delete=models.CASCADE, related_name="controls")
    command = models.JSONField()  # canonical form from training.control.check_command
    created = models.DateTimeField(default=timezone.now)
    taken = models.DateTimeField(null=True, blank=True, db_index=True)  # when the worker picked it up

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.command.get('action')} for run {self.run_id}"
