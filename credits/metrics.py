"""The credits' figures for /metrics (registered with wan_pwa.metrics in `ready()`)."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.registry import Collector

from credits.analytics import moved_since
from credits.jobs import MISMATCH_METRIC
from wan_pwa.analytics.totals import running_totals
from wan_pwa.background.metrics import value_of
from wan_pwa.metrics import counter


class CreditsCollector(Collector):
    def collect(self) -> Iterator[Metric]:
        moved = running_totals("credits", "moved", moved_since)
        yield counter(
            "wan_credits_moved",
            "Credits moved through the ledger, by type (signed: spending is negative).",
            ["type"],
            {(kind,): total for kind, total in moved.items()},
        )
        yield CounterMetricFamily(
            "wan_credit_audit_mismatches",
            "Mismatches found by the credit audit since the start.",
            value=value_of(MISMATCH_METRIC),
        )
