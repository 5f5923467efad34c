"""Prometheus metrics at /metrics, in the text exposition format.

Two kinds: request latency, measured in each process by `RequestMetricsMiddleware` (under
gunicorn, with PROMETHEUS_MULTIPROC_DIR set, every worker writes its values to files there and a
scrape adds them up: prometheus_client's multiprocess mode); and the product's figures, which
each app registers as a collector (`register_collector`, from its `ready()`) reading the
database at scrape time.

Why the database and not counters incremented in the process where a generation ends: those
events happen in web workers (webhooks, cancels) and in task workers (the watchdog, copies,
submissions), which are separate processes and may be separate machines, while multiprocess mode
adds up only the files of one machine's processes; an increment inside a transaction that rolls
back would count what never happened; and every deploy would reset them. The rows are the one
place every process writes, only once committed, so a scrape is right whichever process answers,
the moment the row is there (see wan_pwa/analytics/totals.py for how it stays cheap).

Access: a bearer token (METRICS_TOKEN) or a client address in METRICS_ALLOWED_IPS; with neither
set the endpoint answers 404, so it is closed unless configured. The address is REMOTE_ADDR,
i.e. the proxy's behind one: there, use the token (or let the proxy refuse /metrics).
"""

from __future__ import annotations

import hmac
import os
import time
from collections.abc import Callable, Iterator
from typing import TypeVar

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from django_tasks_db.models import DBTaskResult
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from wan_pwa.registry import Registry

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


COLLECTORS: Registry[Collector] = Registry("metrics collector")


def register_collector(name: str, collector: Collector) -> None:
    """Called from an app's `ready()`: `collector.collect()` runs at every scrape."""
    COLLECTORS.register(name, collector)


Family = TypeVar("Family", CounterMetricFamily, GaugeMetricFamily)


def _filled(family: Family, values: dict[tuple[str, ...], int]) -> Family:
    for label_values, value in sorted(values.items()):  # a stable order
        family.add_metric(list(label_values), value)
    return family


def counter(
    name: str, documentation: str, labels: list[str], values: dict[tuple[str, ...], int]
) -> CounterMetricFamily:
    """A counter family from {label values: value}."""
    return _filled(CounterMetricFamily(name, documentation, labels=labels), values)


def gauge(
    name: str, documentation: str, labels: list[str], values: dict[tuple[str, ...], int]
) -> GaugeMetricFamily:
    """A gauge family from {label values: value}."""
    return _filled(GaugeMetricFamily(name, documentation, labels=labels), values)


class TaskQueueCollector(Collector):
    def collect(self) -> Iterator[Metric]:
        yield GaugeMetricFamily(
            "wan_task_queue_depth",
            "Tasks ready to run and waiting for a worker.",
            value=DBTaskResult.objects.ready().count(),
        )


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
    for collector in COLLECTORS:
        product_registry.register(collector)
    body = generate_latest(process_registry) + generate_latest(product_registry)
    return HttpResponse(body, content_type=CONTENT_TYPE_LATEST)
