"""/metrics: closed unless configured, parsed by prometheus_client's own parser, values matching
what happened, and request latency added up across processes in multiprocess mode."""

from __future__ import annotations

import subprocess
import sys

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from prometheus_client.parser import text_string_to_metric_families

from credits import analytics as credit_analytics
from generations import analytics as generation_analytics
from generations.lifecycle.cancellation import cancel_prediction
from generations.lifecycle.scheduling import enqueue_later
from generations.lifecycle.transitions import apply_prediction_update, cancel_generation
from generations.models import Status
from tests.factories import make_generation
from tests.generations.lifecycle_helpers import submit, update
from wan_pwa.analytics.counters import count_event
from wan_pwa.background.metrics import increment
from webhooks import analytics as webhook_analytics

pytestmark = pytest.mark.django_db

TOKEN = "s3cret-metrics-token"


@pytest.fixture
def metrics_token(settings):
    settings.METRICS_TOKEN = TOKEN
    settings.METRICS_ALLOWED_IPS = []


def scrape(client) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    }


def test_closed_without_a_token_or_an_allowed_address(client, settings):
    settings.METRICS_TOKEN, settings.METRICS_ALLOWED_IPS = "", []
    assert client.get("/metrics").status_code == 404


def test_a_wrong_token_is_refused(client, metrics_token):
    assert client.get("/metrics", headers={"Authorization": "Bearer nope"}).status_code == 404


def test_an_allowed_address_needs_no_token(client, settings):
    settings.METRICS_TOKEN, settings.METRICS_ALLOWED_IPS = "", ["127.0.0.1"]
    assert client.get("/metrics").status_code == 200


def test_values_match_what_happened(client, metrics_token, user):
    make_generation(user, status=Status.SUCCEEDED)
    make_generation(user, status=Status.SUCCEEDED)
    make_generation(user, status=Status.FAILED)
    make_generation(user, status=Status.PROCESSING)
    count_event("webhook_rejected")
    count_event("webhook_duplicate")
    count_event("webhook_duplicate")
    increment("credit_audit_mismatches", 3)
    cancel_prediction.enqueue("p-ready-1")
    cancel_prediction.enqueue("p-ready-2")
    enqueue_later(cancel_prediction, 3600, "p-later")  # not ready: not waiting
    generation_analytics.roll_up()
    webhook_analytics.roll_up()
    client.get("/healthz")

    samples = scrape(client)
    ended = "wan_generations_ended_total"
    assert samples[(ended, (("model", "t2v-14B"), ("status", "succeeded")))] == 2
    assert samples[(ended, (("model", "t2v-14B"), ("status", "failed")))] == 1
    assert samples[("wan_generations_in_flight", (("status", "processing"),))] == 1
    assert samples[("wan_webhook_deliveries_total", (("outcome", "rejected"),))] == 1
    assert samples[("wan_webhook_deliveries_total", (("outcome", "duplicate"),))] == 2
    assert samples[("wan_credit_audit_mismatches_total", ())] == 3
    assert samples[("wan_task_queue_depth", ())] == 2
    healthz = (("method", "GET"), ("status", "200"), ("view", "healthz"))
    assert samples[("wan_http_request_duration_seconds_count", healthz)] >= 1


def test_generations_that_end_show_at_once_and_are_not_counted_again_by_the_roll_up(
    client, metrics_token, user, replicate_settings
):
    ended = "wan_generations_ended_total"
    failed = (ended, (("model", "t2v-1.3B"), ("status", "failed")))
    canceled = (ended, (("model", "t2v-1.3B"), ("status", "canceled")))
    refunded = ("wan_credits_moved_total", (("type", "refund"),))
    generation_analytics.roll_up()  # an earlier roll-up: what follows is newer than it
    credit_analytics.roll_up()
    first, second, third = submit(user), submit(user), submit(user)
    assert scrape(client)[("wan_generations_in_flight", (("status", "queued"),))] == 3

    apply_prediction_update(first.pk, update("p-1", "failed", error="CUDA out of memory"))
    apply_prediction_update(second.pk, update("p-2", "canceled"))
    cancel_generation(third)

    samples = scrape(client)
    assert (samples[failed], samples[canceled], samples[refunded]) == (1, 2, 3 * 5)
    assert ("wan_generations_in_flight", (("status", "queued"),)) not in samples
    generation_analytics.roll_up()
    credit_analytics.roll_up()
    samples = scrape(client)
    assert (samples[failed], samples[canceled], samples[refunded]) == (1, 2, 3 * 5)


def test_a_scrape_costs_the_same_queries_however_much_has_happened(client, metrics_token, user):
    def queries_per_scrape() -> int:
        with CaptureQueriesContext(connection) as captured:
            scrape(client)
        return len(captured)

    make_generation(user, status=Status.FAILED)
    few = queries_per_scrape()
    for status in [Status.SUCCEEDED, Status.FAILED, Status.CANCELED, Status.PROCESSING] * 5:
        make_generation(user, status=status, model_key="t2v-1.3B")
    count_event("webhook_rejected")
    generation_analytics.roll_up()
    make_generation(user, status=Status.SUCCEEDED)
    assert queries_per_scrape() == few


WORKER = """
from prometheus_client import Histogram
latency = Histogram("wan_http_request_duration_seconds", "x", ["view", "method", "status"])
latency.labels("home", "GET", "200").observe(0.05)
"""


def test_multiprocess_mode_adds_up_the_workers(client, metrics_token, monkeypatch, tmp_path):
    for _ in range(2):  # two gunicorn workers, each writing its own file
        subprocess.run(  # noqa: S603 (our own snippet)
            [sys.executable, "-c", WORKER],
            env={"PROMETHEUS_MULTIPROC_DIR": str(tmp_path)},
            check=True,
        )
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    samples = scrape(client)
    home = (("method", "GET"), ("status", "200"), ("view", "home"))
    assert samples[("wan_http_request_duration_seconds_count", home)] == 2
