"""POST /api/webhooks/replicate: verification, the event log, and what each delivery does."""

from __future__ import annotations

import base64
import json
import time

import httpx
import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from pytest_django import Settings

from credits.selectors import balance_of
from generations.actions.transitions import UpdateOutcome
from generations.failures import FailureReason
from generations.models import Generation, Status
from tests.generations.lifecycle_helpers import (
    WEBHOOK_SECRET,
    post_webhook,
    post_webhook_body,
    prediction,
    refunds_of,
    scheduled_tasks,
    sign,
    submit,
)
from wan_pwa.accounts.models import User
from webhooks.checks import webhook_secret_is_usable
from webhooks.models import WebhookEvent

# Nothing here may reach Replicate unless a test adds a route for it.
pytestmark = pytest.mark.usefixtures("replicate_api")

URL = "/api/webhooks/replicate"
VIDEO_URL = "https://replicate.delivery/abc/output.mp4"


@pytest.fixture
def generation(user: User) -> Generation:
    return submit(user)


def state(generation: Generation) -> tuple:
    generation.refresh_from_db()
    return (
        generation.status,
        generation.prediction_id,
        generation.progress,
        generation.replicate_status,
        generation.output_url,
        balance_of(generation.user),
        WebhookEvent.objects.count(),
    )


def test_a_start_webhook_adopts_the_prediction(client, generation):
    response = post_webhook(client, generation, prediction("p-1", "starting"))

    assert response.status_code == 200
    assert response.json() == {"outcome": UpdateOutcome.APPLIED}
    generation.refresh_from_db()
    assert generation.status == Status.STARTING
    assert generation.prediction_id == "p-1"
    assert generation.replicate_status == "starting"
    # News of a running prediction is applied, not recorded: it is harmless to repeat.
    assert not WebhookEvent.objects.exists()


def test_a_webhook_that_ends_the_generation_is_logged_once(client, generation):
    post_webhook(client, generation, prediction("p-1", "processing"))
    failed = prediction("p-1", "failed", error="out of memory")
    response = post_webhook(client, generation, failed, webhook_id="msg_end")
    again = post_webhook(client, generation, failed, webhook_id="msg_end")

    assert response.json() == {"outcome": UpdateOutcome.APPLIED}
    assert again.json() == {"outcome": "duplicate"}
    event = WebhookEvent.objects.get()
    assert (event.generation, event.prediction_id) == (generation, "p-1")
    assert event.outcome == UpdateOutcome.APPLIED
    assert event.payload["status"] == "failed"


def test_progress_comes_from_the_percentages_in_the_logs(client, generation):
    logs = "loading model\n 10%|#         | 3/30\n 45%|####5     | 13/30\n"
    post_webhook(client, generation, prediction("p-1", "processing", logs=logs))

    generation.refresh_from_db()
    assert generation.status == Status.PROCESSING
    assert generation.progress == 45
    assert generation.started_at is not None


def test_progress_never_goes_back(client, generation):
    post_webhook(client, generation, prediction("p-1", "processing", logs=" 60%|"))
    post_webhook(client, generation, prediction("p-1", "processing", logs=" 20%|"))

    generation.refresh_from_db()
    assert generation.progress == 60


def test_success_is_not_shown_until_the_video_is_copied(client, generation):
    post_webhook(client, generation, prediction("p-1", "succeeded", output=VIDEO_URL))

    generation.refresh_from_db()
    assert generation.status == Status.PROCESSING
    assert generation.replicate_status == "succeeded"
    assert generation.output_url == VIDEO_URL
    assert not generation.is_ready
    assert len(scheduled_tasks("copy_output")) == 1


def test_a_list_output_uses_its_first_url(client, generation):
    post_webhook(client, generation, prediction("p-1", "succeeded", output=[VIDEO_URL]))

    generation.refresh_from_db()
    assert generation.output_url == VIDEO_URL


@pytest.mark.parametrize(
    ("replicate_status", "extra", "expected", "reason"),
    [
        ("failed", {"error": "CUDA out of memory"}, Status.FAILED, FailureReason.PROVIDER_ERROR),
        ("canceled", {}, Status.CANCELED, FailureReason.CANCELED_AT_REPLICATE),
        ("aborted", {}, Status.FAILED, FailureReason.EXPIRED_BEFORE_START),
        (
            "exploded",
            {"completed_at": "2026-01-01T00:01:00Z"},
            Status.FAILED,
            FailureReason.UNKNOWN_STATUS,
        ),
        (
            "succeeded",
            {"output": None, "data_removed": True},
            Status.FAILED,
            FailureReason.OUTPUT_REMOVED,
        ),
    ],
)
def test_unsuccessful_endings_fail_or_cancel_and_refund(
    client, generation, assert_audit_clean, replicate_status, extra, expected, reason
):
    post_webhook(client, generation, prediction("p-1", "processing"))

    post_webhook(client, generation, prediction("p-1", replicate_status, **extra))

    generation.refresh_from_db()
    assert generation.status == expected
    assert generation.failure_reason == reason
    assert generation.completed_at is not None
    assert refunds_of(generation) == 1
    assert balance_of(generation.user) == 100
    assert_audit_clean()


def test_every_status_in_replicates_api_description_is_handled(client, user, settings):
    settings.MAX_IN_FLIGHT_PER_USER = 10  # one generation per status, all in flight at once
    # The `status` enum of schemas_prediction_response in Replicate's OpenAPI description.
    expected = {
        "starting": Status.STARTING,
        "processing": Status.PROCESSING,
        "succeeded": Status.PROCESSING,  # until the copy lands
        "failed": Status.FAILED,
        "canceled": Status.CANCELED,
        "aborted": Status.FAILED,
    }
    for replicate_status, status in expected.items():
        generation = submit(user)
        body = prediction(f"p-{replicate_status}", replicate_status, output=VIDEO_URL)
        assert post_webhook(client, generation, body).status_code == 200
        generation.refresh_from_db()
        assert generation.status == status, replicate_status


def test_an_unknown_status_still_running_changes_nothing_but_is_logged(client, generation):
    before = state(generation)

    response = post_webhook(client, generation, prediction("p-1", "warming-up"))

    assert response.status_code == 200
    generation.refresh_from_db()
    assert generation.status == Status.QUEUED
    assert WebhookEvent.objects.count() == before[-1] + 1


def test_a_failure_is_refunded_once_however_often_it_is_delivered(
    client, generation, assert_audit_clean
):
    failed = prediction("p-1", "failed", error="boom")
    for _ in range(3):  # Replicate's retries of the terminal webhook, each a new delivery
        assert post_webhook(client, generation, failed).status_code == 200

    assert refunds_of(generation) == 1
    assert balance_of(generation.user) == 100
    assert list(WebhookEvent.objects.values_list("outcome", flat=True).order_by("id")) == [
        UpdateOutcome.APPLIED,
        UpdateOutcome.FINAL,
        UpdateOutcome.FINAL,
    ]
    assert_audit_clean()


def test_a_repeated_webhook_id_is_acknowledged_without_effect(client, generation):
    body = prediction("p-1", "failed", error="boom")
    first = post_webhook(client, generation, body, webhook_id="msg_same")
    second = post_webhook(client, generation, body, webhook_id="msg_same")

    assert first.status_code == second.status_code == 200
    assert second.json() == {"outcome": "duplicate"}
    assert WebhookEvent.objects.count() == 1
    assert refunds_of(generation) == 1


def test_out_of_order_webhooks_never_move_a_status_back(client, generation):
    post_webhook(client, generation, prediction("p-1", "succeeded", output=VIDEO_URL))
    post_webhook(client, generation, prediction("p-1", "processing", logs=" 30%|"))
    post_webhook(client, generation, prediction("p-1", "starting"))

    generation.refresh_from_db()
    assert generation.status == Status.PROCESSING
    assert generation.replicate_status == "succeeded"
    assert generation.output_url == VIDEO_URL
    assert len(scheduled_tasks("copy_output")) == 1


def test_a_late_logs_webhook_after_the_end_is_ignored(client, generation):
    post_webhook(client, generation, prediction("p-1", "canceled"))
    response = post_webhook(client, generation, prediction("p-1", "processing", logs="90%"))

    assert response.json() == {"outcome": UpdateOutcome.FINAL}
    generation.refresh_from_db()
    assert (generation.status, generation.progress) == (Status.CANCELED, 0)


def test_a_second_prediction_for_a_generation_is_canceled_at_replicate(client, generation):
    post_webhook(client, generation, prediction("p-1", "processing"))

    response = post_webhook(client, generation, prediction("p-2", "starting"))

    assert response.json() == {"outcome": UpdateOutcome.STRAY}
    generation.refresh_from_db()
    assert generation.prediction_id == "p-1"
    cancels = scheduled_tasks("cancel_prediction")
    assert [task.args_kwargs["args"] for task in cancels] == [["p-2"]]


def test_a_prediction_of_another_generation_is_not_taken_over(client, user):
    first, second = submit(user), submit(user)
    post_webhook(client, first, prediction("p-1", "processing"))

    response = post_webhook(client, second, prediction("p-1", "failed"))

    assert response.json() == {"outcome": UpdateOutcome.MISMATCH}
    second.refresh_from_db()
    assert (second.status, second.prediction_id) == (Status.QUEUED, None)
    assert refunds_of(first) == refunds_of(second) == 0


def test_a_webhook_for_an_unknown_generation_is_acknowledged_and_logged(client, generation):
    response = post_webhook(client, 999_999, prediction("p-9", "failed"))

    assert response.status_code == 200
    assert response.json() == {"outcome": UpdateOutcome.UNKNOWN_GENERATION}
    event = WebhookEvent.objects.get()
    assert event.generation is None


def fetched_secret_setup(settings: Settings) -> None:
    """No configured secret, and an empty cache to keep the fetched one in."""
    settings.REPLICATE_WEBHOOK_SECRET = ""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    cache.clear()


# --- Bad input: a 4xx, and nothing changes (not even the event log).

BODY = json.dumps(prediction("p-1", "failed")).encode()


def _headers(**changes: str | None) -> dict[str, str]:
    headers: dict[str, str | None] = {**sign(BODY), **changes}
    return {name: value for name, value in headers.items() if value is not None}


OTHER_SECRET = "whsec_" + base64.b64encode(b"somebody else").decode()


@pytest.mark.parametrize(
    "make_headers",
    [
        pytest.param(lambda: {}, id="no headers"),
        pytest.param(lambda: _headers(HTTP_WEBHOOK_ID=None), id="no id"),
        pytest.param(lambda: _headers(HTTP_WEBHOOK_TIMESTAMP=None), id="no timestamp"),
        pytest.param(lambda: _headers(HTTP_WEBHOOK_SIGNATURE=None), id="no signature"),
        pytest.param(lambda: _headers(HTTP_WEBHOOK_SIGNATURE="v1,AAAA"), id="wrong signature"),
        pytest.param(lambda: _headers(HTTP_WEBHOOK_SIGNATURE="v1,***"), id="not base64"),
        pytest.param(lambda: _headers(HTTP_WEBHOOK_SIGNATURE="garbage"), id="no version"),
        pytest.param(
            lambda: _headers(
                HTTP_WEBHOOK_SIGNATURE=sign(BODY)["HTTP_WEBHOOK_SIGNATURE"].replace("v1", "v2")
            ),
            id="unknown version",
        ),
        pytest.param(lambda: sign(BODY, secret=OTHER_SECRET), id="other secret"),
        pytest.param(lambda: _headers(HTTP_WEBHOOK_ID="msg_other"), id="signature of another id"),
        pytest.param(lambda: _headers(HTTP_WEBHOOK_TIMESTAMP="soon"), id="timestamp not a number"),
        pytest.param(lambda: sign(BODY, timestamp=int(time.time()) - 360), id="stale timestamp"),
        pytest.param(lambda: sign(BODY, timestamp=int(time.time()) + 360), id="future timestamp"),
        pytest.param(lambda: sign(BODY, webhook_id="msg_ünïcode"), id="non-ascii id"),
    ],
)
def test_bad_signatures_are_rejected_and_change_nothing(client, generation, make_headers):
    before = state(generation)

    response = post_webhook_body(client, generation, BODY, make_headers())

    assert response.status_code == 401
    assert "error" in response.json()
    assert state(generation) == before


def test_a_tampered_body_is_rejected(client, generation):
    before = state(generation)
    tampered = BODY.replace(b"failed", b"succeeded")

    response = post_webhook_body(client, generation, tampered, sign(BODY))

    assert response.status_code == 401
    assert state(generation) == before


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not json",
        b"\xff\xfe\x00",
        b"[1, 2]",
        b'"failed"',
        b"{}",
        json.dumps({"id": "p-1"}).encode(),
        json.dumps({"id": 5, "status": "failed"}).encode(),
        json.dumps({"id": "p-1", "status": ["failed"]}).encode(),
        json.dumps({"id": "p" * 65, "status": "failed"}).encode(),
        b'{"id": "p-1", "status": "failed", "error": NaN}',
        b"[" * 100_000 + b"]" * 100_000,
    ],
    ids=lambda body: repr(body[:40]),
)
def test_signed_garbage_bodies_get_400_and_change_nothing(client, generation, body):
    before = state(generation)

    response = post_webhook_body(client, generation, body)

    assert response.status_code == 400
    assert state(generation) == before


@pytest.mark.parametrize(
    "query",
    [
        "",
        "?generation=",
        "?generation=abc",
        "?generation=-1",
        "?generation=0",
        "?generation=99999999999999999999",
        "?generation=%C2%B2",
    ],
)
def test_a_missing_or_malformed_generation_id_gets_400(client, generation, query):
    before = state(generation)

    response = client.post(URL + query, data=BODY, content_type="application/json", **sign(BODY))

    assert response.status_code == 400
    assert state(generation) == before


def test_a_huge_body_is_refused(client, generation):
    body = json.dumps(prediction("p-1", "processing", logs="x" * 3_000_000)).encode()
    before = state(generation)

    response = post_webhook_body(client, generation, body)

    assert response.status_code in (400, 413)
    assert state(generation) == before


def test_only_post_is_allowed(client, generation):
    assert client.get(f"{URL}?generation={generation.pk}").status_code == 405


def test_the_signing_key_is_fetched_from_replicate_once_when_not_configured(
    client, settings, user, replicate_api
):
    fetched_secret_setup(settings)
    secret_route = replicate_api.get("/v1/webhooks/default/secret").respond(
        200, json={"key": WEBHOOK_SECRET}
    )
    generation = submit(user)

    first = post_webhook(client, generation, prediction("p-1", "starting"))
    second = post_webhook(client, generation, prediction("p-1", "processing"))

    assert first.status_code == second.status_code == 200
    assert secret_route.call_count == 1
    generation.refresh_from_db()
    assert generation.status == Status.PROCESSING


def test_without_a_signing_key_webhooks_get_503_and_change_nothing(
    client, settings, generation, replicate_api
):
    fetched_secret_setup(settings)
    replicate_api.get("/v1/webhooks/default/secret").mock(side_effect=httpx.ConnectTimeout)
    before = state(generation)

    response = post_webhook(client, generation, prediction("p-1", "failed"))

    assert response.status_code == 503
    assert state(generation) == before


def test_a_webhook_costs_a_constant_number_of_queries(client, user):
    generations = [submit(user) for _ in range(3)]
    counts = []
    for index, generation in enumerate(generations):
        with CaptureQueriesContext(connection) as queries:
            post_webhook(client, generation, prediction(f"p-{index}", "failed", error="x"))
        counts.append(len(queries))
    assert all(refunds_of(generation) == 1 for generation in generations)
    assert len(set(counts)) == 1
    # 3 of them give the refund back to its bucket (credits/buckets.py), 1 looks for the
    # user's webhook endpoints to tell of the failure (wan_pwa/outgoing_webhooks).
    assert counts[0] <= 23


def test_text_postgresql_cannot_store_is_cleaned_not_a_500(client, generation):
    body = json.dumps(
        prediction("p-\x001", "failed", error="bad\x00byte \ud800 lone", logs="\x00 50%")
    ).encode()

    response = post_webhook_body(client, generation, body)

    assert response.status_code == 200
    generation.refresh_from_db()
    assert generation.prediction_id == "p-1"
    assert "badbyte ? lone" in generation.failure_detail
    assert WebhookEvent.objects.get().payload["logs"] == " 50%"


def test_an_overlong_output_url_fails_the_generation_instead_of_crashing(client, generation):
    long_url = "https://replicate.delivery/" + "x" * 2000 + ".mp4"

    response = post_webhook(client, generation, prediction("p-1", "succeeded", output=long_url))

    assert response.status_code == 200
    generation.refresh_from_db()
    assert generation.status == Status.FAILED
    assert refunds_of(generation) == 1


def test_a_malformed_configured_secret_gets_503_not_500(client, settings, generation):
    settings.REPLICATE_WEBHOOK_SECRET = "whsec_not base64!"
    before = state(generation)

    response = post_webhook(client, generation, prediction("p-1", "failed"))

    assert response.status_code == 503
    assert state(generation) == before


def test_the_system_check_flags_a_malformed_secret(settings):
    settings.REPLICATE_WEBHOOK_SECRET = "whsec_not base64!"
    assert [error.id for error in webhook_secret_is_usable(None)] == ["webhooks.E001"]
    settings.REPLICATE_WEBHOOK_SECRET = WEBHOOK_SECRET
    assert webhook_secret_is_usable(None) == []


def test_a_progress_webhook_is_one_conditional_update(client, generation):
    post_webhook(client, generation, prediction("p-1", "starting"))
    with CaptureQueriesContext(connection) as queries:
        post_webhook(client, generation, prediction("p-1", "processing", logs="40%|####"))
    assert [query["sql"].split()[0] for query in queries] == ["UPDATE"]
    generation.refresh_from_db()
    assert (generation.status, generation.progress) == (Status.PROCESSING, 40)


def test_stale_progress_never_moves_a_generation_back(client, generation):
    post_webhook(client, generation, prediction("p-1", "processing", logs="70%|#######"))
    stale = post_webhook(client, generation, prediction("p-1", "starting", logs="20%|##"))

    assert stale.json() == {"outcome": UpdateOutcome.UNCHANGED}
    generation.refresh_from_db()
    assert (generation.status, generation.replicate_status) == (Status.PROCESSING, "processing")
    assert generation.progress == 70
