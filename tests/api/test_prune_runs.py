"""`manage.py prune_runs`: old finished runs go, pinned and active ones stay."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from webapp.runs.models import Event, Run

pytestmark = pytest.mark.django_db


def make(status: str, days_old: float, pinned: bool = False) -> Run:
    run = Run.objects.create(spec={}, status=status, pinned=pinned,
                             created=timezone.now() - timedelta(days=days_old))
    Event.objects.create(run=run, seq=1, type="status", payload='{"seq":1,"type":"status"}')
    return run


def test_prune_deletes_old_finished_unpinned_runs_and_their_events():
    old = make("succeeded", 40)
    old_failed = make("failed", 31)
    pinned = make("succeeded", 400, pinned=True)
    recent = make("succeeded", 5)
    active = make("running", 90)
    out = StringIO()
    call_command("prune_runs", "--days", "30", stdout=out)
    assert "deleted 2 runs" in out.getvalue()
    left = set(Run.objects.values_list("pk", flat=True))
    assert left == {pinned.pk, recent.pk, active.pk}
    assert not Event.objects.filter(run_id__in=[old.pk, old_failed.pk]).exists()


def test_prune_uses_the_retention_setting_and_is_off_by_default(settings):
    make("succeeded", 40)
    out = StringIO()
    call_command("prune_runs", stdout=out)
    assert "retention is off" in out.getvalue() and Run.objects.count() == 1
    settings.RETENTION_DAYS = 10
    call_command("prune_runs", "--dry-run", stdout=out)
    assert "1 runs older than 10 days would be deleted" in out.getvalue() and Run.objects.count() == 1
    call_command("prune_runs", stdout=out)
    assert Run.objects.count() == 0
