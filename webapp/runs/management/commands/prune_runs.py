"""Delete finished, unpinned runs older than the retention period (and their events).

    python manage.py prune_runs                # DESCENT_RETENTION_DAYS (0: keep everything)
    python manage.py prune_runs --days 30 --dry-run

Active runs and pinned runs (Run.pinned) are never deleted.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from webapp.runs.models import FINISHED, Run


def prunable(days: int):
    cutoff = timezone.now() - timedelta(days=days)
    return Run.objects.filter(status__in=FINISHED, pinned=False, created__lt=cutoff)


class Command(BaseCommand):
    help = "Delete finished, unpinned runs older than N days (DESCENT_RETENTION_DAYS by default)."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=None, help="age in days (default: DESCENT_RETENTION_DAYS)")
        parser.add_argument("--dry-run", action="store_true", help="count what would go, delete nothing")

    def handle(self, *args, days=None, dry_run=False, **options):
        days = settings.RETENTION_DAYS if days is None else days
        if days is None or days <= 0:
            if options.get("days") is not None:
                raise CommandError("--days must be a positive number of days")
            self.stdout.write("retention is off (DESCENT_RETENTION_DAYS=0): nothing deleted")
            return
        runs = prunable(days)
        count = runs.count()
        if dry_run:
            self.stdout.write(f"{count} runs older than {days} days would be deleted")
            return
        # in slices: a big backlog must not hold the database's write lock for long
        deleted = 0
        while True:
            ids = list(runs.values_list("pk", flat=True)[:200])
            if not ids:
                break
            Run.objects.filter(pk__in=ids).delete()
            deleted += len(ids)
        self.stdout.write(f"deleted {deleted} runs older than {days} days")
