"""Webhook delivery for the staff dashboard (wan_pwa.analytics): of the generations Replicate
ran that ended in an hour, how many we learned the end of from a webhook rather than from the
watchdog, the reconcile job or a command. Here because only webhooks may read both tables."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from django.db.models import Count as Rows
from django.db.models import Exists, OuterRef, QuerySet

from generations.actions.transitions import UpdateOutcome
from generations.analytics import LONGEST_LIFE
from generations.models import Generation, Status
from wan_pwa.analytics.rollup import Count, fill, per_hour
from webhooks.models import WebhookEvent

NO_OUTCOME = "(none)"


def roll_up() -> str:
    """Periodic job: refreshes the webhook delivery counts."""
    return fill("webhooks", hourly_counts)


def hourly_counts(start: datetime, end: datetime) -> Iterator[Count]:
    # Only terminal deliveries are recorded; "applied" is the one that moved the generation.
    ending_delivery = WebhookEvent.objects.filter(
        generation=OuterRef("pk"), outcome=UpdateOutcome.APPLIED
    )
    # A generation Replicate never accepted (no prediction), or one the user canceled, has no
    # webhook to wait for.
    ended = Generation.objects.filter(
        status__in=[Status.SUCCEEDED, Status.FAILED],
        prediction_id__isnull=False,
        created_at__gte=start - LONGEST_LIFE,
        completed_at__gte=start,
        completed_at__lt=end,
    ).annotate(by_webhook=Exists(ending_delivery))
    for row in per_hour(ended, "completed_at").values("hour", "by_webhook").annotate(n=Rows("id")):
        source = "webhook" if row["by_webhook"] else "other"
        yield Count("generation_end", source, row["hour"], row["n"])

    recorded = _replicate_deliveries(start).filter(received_at__lt=end)
    for row in per_hour(recorded, "received_at").values("hour", "outcome").annotate(n=Rows("id")):
        yield Count("outcome", row["outcome"] or NO_OUTCOME, row["hour"], row["n"])


def outcomes_since(start: datetime) -> Iterator[tuple[str, int]]:
    """The `outcome` count from `start` on, by outcome (for /metrics)."""
    for row in _replicate_deliveries(start).values("outcome").annotate(n=Rows("id")):
        yield row["outcome"] or NO_OUTCOME, row["n"]


def _replicate_deliveries(start: datetime) -> QuerySet[WebhookEvent]:
    return WebhookEvent.objects.filter(source=WebhookEvent.Source.REPLICATE, received_at__gte=start)
