"""Prometheus metrics at /metrics, in the text exposition format.

Two kinds: request latency, measured in each process by `RequestMetricsMiddleware` (under
gunicorn, with PROMETHEUS_MULTIPROC_DIR set, every worker writes its values to files there and a
scrape adds them up: prometheus_client's multiprocess mode); and the product's figures, read
from the database at scrape time (the hourly counts, the task queue, the audit counter), which
every process sees alike, so they are right whichever worker answers.

Access: a bearer token (METRICS_TOKEN) or a client address in METRICS_ALLOWED_IPS; with neither
set the endpoint answers 404, so it is closed unless configured. The address is REMOTE_ADDR,
i.e. the proxy's behind one: there, use the token (or let the proxy refuse /metrics).
"""

from __future__ import annotations

import hmac
import os
import time
from collections.abc import Callable, Iterator

from django.conf import settings
from django.db.models import Sum
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from django_tasks_db.models import DBTaskResult
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from wan_pwa.analytics.models import HourlyCount, RollupCursor
from wan_pwa.analytics.rollup import hour_start
from wan_pwa.background.models import MetricCounter

# The process's own metrics; in multiprocess mode their values live in files instead.
PROCESS_REGISTRY = CollectorRegistry()
REQUEST_LATENCY = Histogram(
    "wan_http_request_duration_seconds",
    "Time to answer a request, by view.",
    ["view", "method", "status"],
    registry=PROCESS_REGISTRY,
)


class RequestMetricsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        match = request.resolver_match
        # The view's name, never the path: paths carry ids and would make endless series.
        view = (match.view_name or match.route) if match else "<unresolved>"
        REQUEST_LATENCY.labels(view, request.method, str(response.status_code)).observe(
            time.perf_counter() - started
        )
        return response


class ProductCollector(Collector):
    """The product's figures from the database, at each scrape: a handful of small queries."""

    def collect(self) -> Iterator[Metric]:
        totals = _totals(
            [
                "generations.ended",
                "webhooks.outcome",
                "credits.moved",
                "events.webhook_rejected",
                "events.webhook_duplicate",
            ]
        )
        yield _counter(
            "wan_generations_ended",
            "Generations ended, by model and status (counted by the roll-up).",
            ["model", "status"],
            {tuple(dim.split(":", 1)): n for dim, n in totals["generations.ended"].items()},
        )
        # Recorded (terminal) deliveries by what they did, plus those refused before recording.
        outcomes: dict[tuple[str, ...], int] = {
            (dim,): n for dim, n in totals["webhooks.outcome"].items()
        }
        outcomes[("rejected",)] = sum(totals["events.webhook_rejected"].values())
        outcomes[("duplicate",)] = sum(totals["events.webhook_duplicate"].values())
        yield _counter(
            "wan_webhook_deliveries",
            "Replicate webhook deliveries, by outcome.",
            ["outcome"],
            outcomes,
        )
        yield _counter(
            "wan_credits_moved",
            "Credits moved through the ledger, by type (signed: spending is negative).",
            ["type"],
            {(dim,): n for dim, n in totals["credits.moved"].items()},
        )
        in_flight = GaugeMetricFamily(
            "wan_generations_in_flight",
            "Generations queued or running, by status.",
            labels=["status"],
        )
        for status, n in _latest_gauge("generations.in_flight").items():
            in_flight.add_metric([status], n)
        yield in_flight
        yield GaugeMetricFamily(
            "wan_task_queue_depth",
            "Tasks ready to run and waiting for a worker.",
            value=DBTaskResult.objects.ready().count(),
        )
        mismatches = (
            MetricCounter.objects.filter(name="credit_audit_mismatches")
            .values_list("value", flat=True)
            .first()
        )
        yield CounterMetricFamily(
            "wan_credit_audit_mismatches",
            "Mismatches found by the credit audit since the start.",
            value=mismatches or 0,
        )


def _totals(metrics: list[str]) -> dict[str, dict[str, int]]:
    found: dict[str, dict[str, int]] = {metric: {} for metric in metrics}
    rows = HourlyCount.objects.filter(metric__in=metrics).values("metric", "dimension")
    for row in rows.annotate(total=Sum("value")):
        found[row["metric"]][row["dimension"]] = row["total"]
    return found


def _latest_gauge(metric: str) -> dict[str, int]:
    cursor = RollupCursor.objects.filter(source=metric.split(".")[0]).first()
    if cursor is None:
        return {}
    rows = HourlyCount.objects.filter(metric=metric, hour=hour_start(cursor.filled_until))
    return dict(rows.values_list("dimension", "value"))


def _counter(
    name: str, documentation: str, labels: list[str], values: dict[tuple[str, ...], int]
) -> CounterMetricFamily:
    family = CounterMetricFamily(name, documentation, labels=labels)
    for label_values, value in sorted(values.items()):
        family.add_metric(list(label_values), value)
    return family


def _allowed(request: HttpRequest) -> bool:
    token = settings.METRICS_TOKEN
    sent = request.headers.get("Authorization", "")
    if token and hmac.compare_digest(sent.encode(), f"Bearer {token}".encode()):
        return True
    return request.META.get("REMOTE_ADDR") in settings.METRICS_ALLOWED_IPS


@require_safe
@never_cache
def metrics(request: HttpRequest) -> HttpResponse:
    if not _allowed(request):
        raise Http404  # not even saying it exists
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        process_registry = CollectorRegistry()
        MultiProcessCollector(process_registry)
    else:
        process_registry = PROCESS_REGISTRY
    product_registry = CollectorRegistry()
    product_registry.register(ProductCollector())
    body = generate_latest(process_registry) + generate_latest(product_registry)
    return HttpResponse(body, content_type=CONTENT_TYPE_LATEST)
