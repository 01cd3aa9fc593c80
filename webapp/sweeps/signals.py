"""After a run's task ends (in the worker), record its sweep metric and release the next runs;
and every status or epoch event of a sweep's run is told to the sweep's viewers (webapp/sweeps/live.py)."""

from __future__ import annotations

import logging

from celery.signals import task_postrun
from django.dispatch import receiver

from webapp.runs.sink import published

log = logging.getLogger(__name__)


@task_postrun.connect
def _release_after_run(sender=None, args=None, **_kwargs) -> None:
    if getattr(sender, "name", None) != "runs.train" or not args:
        return
    from webapp.sweeps.services import on_run_finished

    try:
        on_run_finished(int(args[0]))
    except Exception:  # never let bookkeeping kill the worker; the table's reads release too
        log.exception("releasing sweep runs after run %s", args[0])


@receiver(published, dispatch_uid="sweeps.follow_run_events")
def _follow_run_events(sender=None, run_pk=None, public_id=None, message=None, publisher=None, **_kwargs) -> None:
    """A sweep's run emitted a status or epoch event: tell the sweep's viewers too."""
    from webapp.sweeps import live

    if publisher is None or message.get("type") not in ("status", "epoch"):
        return
    member = live.membership(run_pk, public_id)
    if member is None:
        return
    note = live.notice(public_id, message, member[1])
    if note is not None:
        publisher.send(live.group_name(member[0]), note)

