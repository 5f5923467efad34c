"""Periodic jobs of the workers' own machinery (the apps' jobs live in the apps)."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from wan_pwa.background import db_internals
from wan_pwa.background.models import PeriodicJobRun


def prune_task_results() -> str:
    """Deletes finished task rows and job runs older than TASK_RESULT_RETENTION_DAYS.

    Idempotent: it deletes by age only, so a second run finds nothing more to delete.
    """
    cutoff = timezone.now() - timedelta(days=settings.TASK_RESULT_RETENTION_DAYS)
    tasks = db_internals.delete_finished_before(cutoff)
    runs, _ = PeriodicJobRun.objects.filter(slot__lt=cutoff).delete()
    return f"deleted {tasks} finished task rows and {runs} job runs"
