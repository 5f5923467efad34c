"""Filling the hourly counts. Each app's roll-up job calls `fill` with its source name and a
function that counts its rows per hour; `fill` recounts a window and replaces that source's rows
in it, so a run can be repeated, interrupted or late without counting anything twice. Each run
then prunes one batch of expired rows, so the table stays bounded with no job of its own."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import DateTimeField, QuerySet
from django.db.models.functions import TruncHour
from django.utils import timezone

from wan_pwa.analytics.models import HourlyCount, RollupCursor

HOUR = timedelta(hours=1)
# The first run counts this far back; later runs start REWIND before the last one ended, so rows
# committed late (a long transaction, a clock a little behind) are still counted.
BACKFILL = timedelta(days=30)
REWIND = timedelta(hours=2)
# The dashboard's longest window: no retention setting may delete what it still shows.
SHORTEST_RETENTION = timedelta(days=30)
# Expired rows deleted per roll-up run. Four roll-ups every 5 minutes delete up to a million
# rows a day, far more than the few thousand a month that expire, and each DELETE stays short.
PRUNE_BATCH = 1000


@dataclass(frozen=True)
class Count:
    metric: str  # without the source's prefix
    dimension: str
    hour: datetime
    value: int


Counter = Callable[[datetime, datetime], Iterable[Count]]


def hour_start(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def per_hour(queryset: QuerySet, field: str) -> QuerySet:
    """The queryset annotated with `hour`, the UTC hour of `field`, for grouping."""
    return queryset.annotate(hour=TruncHour(field, tzinfo=UTC, output_field=DateTimeField()))


def fill(source: str, counter: Counter) -> str:
    """Recounts `source`'s metrics from a little before its last run up to the current hour
    (included, so the dashboard is at most one period behind) and replaces its rows there."""
    now = timezone.now()
    cursor = RollupCursor.objects.filter(source=source).first()
    start = hour_start(cursor.filled_until - REWIND if cursor else now - BACKFILL)
    end = hour_start(now) + HOUR
    counts = [count for count in counter(start, end) if count.value]
    with transaction.atomic():
        HourlyCount.objects.filter(
            metric__startswith=f"{source}.", hour__gte=start, hour__lt=end
        ).delete()
        HourlyCount.objects.bulk_create(
            HourlyCount(
                metric=f"{source}.{count.metric}",
                dimension=count.dimension[:120],
                hour=count.hour,
                value=count.value,
            )
            for count in counts
        )
        RollupCursor.objects.update_or_create(source=source, defaults={"filled_until": now})
    pruned = prune(now)
    return (
        f"{len(counts)} {source} counts from {start:%Y-%m-%d %H:00} to {end:%Y-%m-%d %H:00}, "
        f"{pruned} expired pruned"
    )


def prune(now: datetime) -> int:
    """Deletes one batch of the oldest rows, of every metric, older than
    ANALYTICS_RETENTION_DAYS; returns how many. The roll-ups run in the same slots, so rows
    another run is deleting are skipped (SKIP LOCKED on PostgreSQL) rather than waited for."""
    retention = max(timedelta(days=settings.ANALYTICS_RETENTION_DAYS), SHORTEST_RETENTION)
    expired = HourlyCount.objects.filter(hour__lt=now - retention).order_by("hour")
    with transaction.atomic():
        batch = expired.select_for_update(skip_locked=True).values("pk")[:PRUNE_BATCH]
        deleted, _ = HourlyCount.objects.filter(pk__in=batch).delete()
    return deleted
