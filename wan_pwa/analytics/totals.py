"""All-time totals of a summed roll-up metric as of this moment, for /metrics.

The hours the last roll-up of a source closed come from the hourly counts; from the start of the
hour it last filled on, the rows themselves are counted now (the same count the roll-up makes).
So a figure moves as soon as its row is committed, in whichever process or machine wrote it, a
rolled-back transaction never counts, and the next roll-up takes over those hours without
counting anything twice. The live part spans at most an hour and one roll-up period of rows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime

from django.db.models import Sum

from wan_pwa.analytics.models import HourlyCount, RollupCursor
from wan_pwa.analytics.rollup import hour_start

# Before any row of ours: with no roll-up yet, everything is counted from the rows.
BEGINNING = datetime(2000, 1, 1, tzinfo=UTC)

# Counts the rows from a moment on, by dimension, exactly as the roll-up would.
SinceCounter = Callable[[datetime], Iterable[tuple[str, int]]]


def running_totals(source: str, metric: str, rows_since: SinceCounter) -> dict[str, int]:
    """`source.metric` summed over all time, by dimension (three queries)."""
    cursor = RollupCursor.objects.filter(source=source).first()
    boundary = hour_start(cursor.filled_until) if cursor else BEGINNING
    closed = HourlyCount.objects.filter(metric=f"{source}.{metric}", hour__lt=boundary)
    totals: dict[str, int] = dict(
        closed.values("dimension").annotate(total=Sum("value")).values_list("dimension", "total")
    )
    for dimension, value in rows_since(boundary):
        totals[dimension] = totals.get(dimension, 0) + value
    return totals
