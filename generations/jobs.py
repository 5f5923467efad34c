"""Periodic jobs of generations, run by the workers (registered in `apps.py`)."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from generations import catalog, retention, schema_check
from generations.lifecycle import watchdog
from generations.models import Generation
from generations.replicate.gateway import GatewayError
from wan_pwa.background import metrics
from wan_pwa.background.scheduler import JobFailed

logger = logging.getLogger(__name__)

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


SCHEMA_BREAKS_METRIC = "model_schema_breaks"


def check_model_schemas() -> str:
    """`manage.py check_models` once a day: a catalog model whose Replicate schema no longer
    takes what we send is logged as an error, counted in the `model_schema_breaks` metric and
    fails the run (shown in Admin > Periodic job runs). Read-only, so running it twice is
    harmless."""
    if not settings.REPLICATE_API_TOKEN:
        return "Replicate is not set up"
    try:
        reports = schema_check.check_catalog(catalog.MODELS.values())
    except GatewayError as error:
        raise JobFailed(f"Could not check the models: {error}") from None
    broken = schema_check.broken_keys(reports)
    if not broken:
        return f"{len(reports)} Replicate models take what the catalog sends"
    metrics.increment(SCHEMA_BREAKS_METRIC, len(broken))
    lines = [f"{r.key}: {line}" for r in reports for line in r.breaking]
    summary = f"breaking differences in {', '.join(broken)}: {' '.join(lines)}"
    logger.error("model schemas: %s", summary)
    raise JobFailed(summary)
