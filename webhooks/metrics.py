"""The webhooks' figures for /metrics (registered with wan_pwa.metrics in `ready()`)."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import Metric
from prometheus_client.registry import Collector

from wan_pwa.analytics.counters import event_totals
from wan_pwa.analytics.totals import running_totals
from wan_pwa.metrics import counter
from webhooks.analytics import outcomes_since

# Deliveries refused before they were recorded, counted as they came (webhooks.views, actions).
REJECTED, DUPLICATE = "webhook_rejected", "webhook_duplicate"


class WebhooksCollector(Collector):
    def collect(self) -> Iterator[Metric]:
        # Recorded (terminal) deliveries by what they did, plus those refused before recording.
        outcomes: dict[tuple[str, ...], int] = {
            (outcome,): n
            for outcome, n in running_totals("webhooks", "outcome", outcomes_since).items()
        }
        refused = event_totals([REJECTED, DUPLICATE])
        outcomes[("rejected",)] = refused[REJECTED]
        outcomes[("duplicate",)] = refused[DUPLICATE]
        yield counter(
            "wan_webhook_deliveries",
            "Replicate webhook deliveries, by outcome.",
            ["outcome"],
            outcomes,
        )
