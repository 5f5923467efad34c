"""Periodic jobs of generations, run by the workers (registered in `apps.py`)."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from generations import retention
from generations.lifecycle import watchdog
from generations.models import Generation

# Bounded work per run: the next period picks up the rest.
RECONCILE_BATCH = 200


def reconcile_generations() -> str:
    """The watchdog's check for every in-flight generation unchanged for RECONCILE_OLDER_THAN,
    oldest first: it settles generations whose own watchdog chain ended (a task given up).

    Idempotent: statuses only move forward and refunds are given at most once, so checking a
    generation twice changes nothing the first check did not.
    """
    cutoff = timezone.now() - timedelta(seconds=settings.RECONCILE_OLDER_THAN)
    stale = Generation.objects.in_flight().filter(updated_at__lt=cutoff).order_by("updated_at")
    checked = settled = 0
    for generation in stale[:RECONCILE_BATCH]:
        watchdog.check(generation)
        generation.refresh_from_db(fields=["status"])
        checked += 1
        settled += generation.is_terminal
    return f"checked {checked} stale generation(s), {settled} settled"


def apply_storage_retention() -> str:
    """The storage lifecycle (generations/retention.py), whose docstring says why it is
    idempotent."""
    return retention.apply_retention()
