"""Counting an event as it happens (a refused upload, a rejected webhook), for figures no table
keeps. One conditional UPDATE per event; the row of the hour is created by its first event."""

from __future__ import annotations

from typing import Any

from django.db.models import F, Sum
from django.utils import timezone

from wan_pwa.analytics.models import HourlyCount
from wan_pwa.analytics.rollup import hour_start

# Roll-ups replace their own metrics; these are only ever added to.
PREFIX = "events."


def count_event(name: str, dimension: str = "", by: int = 1) -> None:
    key: dict[str, Any] = {
        "metric": PREFIX + name,
        "dimension": dimension[:120],
        "hour": hour_start(timezone.now()),
    }
    if not HourlyCount.objects.filter(**key).update(value=F("value") + by):
        HourlyCount.objects.get_or_create(**key)
        HourlyCount.objects.filter(**key).update(value=F("value") + by)


def event_totals(names: list[str]) -> dict[str, int]:
    """All-time totals of the named events (each counted as it happened), over dimensions."""
    rows = HourlyCount.objects.filter(metric__in=[PREFIX + name for name in names])
    found = dict(rows.values("metric").annotate(total=Sum("value")).values_list("metric", "total"))
    return {name: found.get(PREFIX + name, 0) for name in names}
