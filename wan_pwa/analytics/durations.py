"""Durations kept as histograms (how many took up to each bound), so percentiles over any
window come from summing a few rows. A percentile is reported as the bound of its bin: an upper
estimate, never off by more than one bin."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

from django.db.models import (
    Case,
    DurationField,
    ExpressionWrapper,
    F,
    IntegerField,
    QuerySet,
    Value,
    When,
)

# Bin upper bounds, in seconds; the last bin also takes anything longer.
BOUNDS = (10, 20, 30, 45, 60, 90, 120, 180, 240, 300, 420, 600, 900, 1800, 3600, 86400)


def with_bin(queryset: QuerySet, start: str, end: str) -> QuerySet:
    """The queryset annotated with `bin`, the bound of the bin `end - start` falls in."""
    elapsed = ExpressionWrapper(F(end) - F(start), output_field=DurationField())
    return queryset.annotate(elapsed=elapsed).annotate(
        bin=Case(
            *[When(elapsed__lte=timedelta(seconds=bound), then=Value(bound)) for bound in BOUNDS],
            default=Value(BOUNDS[-1]),
            output_field=IntegerField(),
        )
    )


def percentile(histogram: Mapping[int, int], fraction: float) -> int | None:
    """The bound of the bin holding the `fraction` quantile; None without any sample."""
    total = sum(histogram.values())
    if not total:
        return None
    seen = 0
    for bound in sorted(histogram):
        seen += histogram[bound]
        if seen >= fraction * total:
            return bound
    return max(histogram)
