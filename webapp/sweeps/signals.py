"""After a run's task ends (in the worker), record its sweep metric and release the next runs."""

from __future__ import annotations

import logging

from celery.signals import task_postrun

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
