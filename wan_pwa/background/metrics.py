"""Counters kept in the database, so every worker and web process adds to the same number."""

from __future__ import annotations

from django.db.models import F

from wan_pwa.background.models import MetricCounter


def increment(name: str, by: int = 1) -> None:
    if not MetricCounter.objects.filter(name=name).update(value=F("value") + by):
        MetricCounter.objects.get_or_create(name=name)
        MetricCounter.objects.filter(name=name).update(value=F("value") + by)


def value_of(name: str) -> int:
    return MetricCounter.objects.filter(name=name).values_list("value", flat=True).first() or 0
