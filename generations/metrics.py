"""The generations' figures for /metrics (registered with wan_pwa.metrics in `ready()`)."""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models import Count as Rows
from prometheus_client.core import Metric
from prometheus_client.registry import Collector

from generations.analytics import ended_since
from generations.jobs import SCHEMA_BREAKS_METRIC
from generations.models import IN_FLIGHT_STATUSES, Generation
from wan_pwa.analytics.totals import running_totals
from wan_pwa.background.metrics import value_of
from wan_pwa.metrics import counter, gauge


class GenerationsCollector(Collector):
    def collect(self) -> Iterator[Metric]:
        ended = running_totals("generations", "ended", ended_since)
        yield counter(
            "wan_generations_ended",
            "Generations ended, by model and status.",
            ["model", "status"],
            {tuple(dimension.split(":", 1)): n for dimension, n in ended.items()},
        )
        in_flight = Generation.objects.filter(status__in=IN_FLIGHT_STATUSES).values("status")
        yield gauge(
            "wan_generations_in_flight",
            "Generations queued or running, by status.",
            ["status"],
            {(row["status"],): row["n"] for row in in_flight.annotate(n=Rows("id"))},
        )
        yield counter(
            "wan_model_schema_breaks",
            "Catalog models found by the daily check_models job with a breaking difference.",
            [],
            {(): value_of(SCHEMA_BREAKS_METRIC)},
        )
