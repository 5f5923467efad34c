"""The submit task against Replicate's HTTP API (respx for the exact error shapes)."""

from __future__ import annotations

import json
from datetime import timedelta

import httpx
import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from pytest_django import Settings

from credits.selectors import balance_of
from generations.failures import FailureReason
from generations.lifecycle.transitions import cancel_generation
from generations.models import Generation, Status
from tests.factories import PROMPT
from tests.generations.lifecycle_helpers import (
    REPLICATE,
    assert_refunded_once,
    make_due,
    png,
    prediction,
    refunds_of,
    run_tasks,
    scheduled_tasks,
    submit,
)

pytestmark = pytest.mark.usefixtures("replicate_settings")

CREATE = "/v1/models/wan-video/wan-2.1-1.3b/predictions"


@pytest.fixture(autouse=True)
def site_url(settings: Settings) -> None:
    settings.SITE_URL = "https://wan.example"


def created(prediction_id: str = "p-new") -> httpx.Response:
    return httpx.Response(201, json=prediction(prediction_id, "starting"))


def test_a_submit_task_enqueued_under_its_old_path_still_runs(user, replicate_api):
    replicate_api.create_prediction().mock(return_value=created("p-old-path"))
    generation = submit(user)
    # A row written before the task moved beside its work (generations.lifecycle.submission).
    DBTaskResult.objects.filter(task_path__endswith=".submit_prediction").update(
        task_path="generations.tasks.submit_prediction"
    )

    run_tasks()

    generation.refresh_from_db()
    assert generation.prediction_id == "p-old-path"
    assert generation.status == Status.STARTING


def test_submitting_creates_the_prediction_with_our_webhook_and_saves_its_id(user, replicate_api):
    route = replicate_api.create_prediction().mock(return_value=created("p-abc"))
    generation = submit(user, seed=42)

    run_tasks()

    sent = json.loads(route.calls.last.request.content)
    assert sent["webhook"] == (
        f"https://wan.example/api/webhooks/replicate?generation={generation.pk}"
    )
    assert sent["webhook_events_filter"] == ["start", "output", "logs", "completed"]
    assert sent["input"] == {
        "prompt": PROMPT,
        "aspect_ratio": "16:9",
        "frame_num": 81,
        "resolution": "480p",
        "seed": 42,
    }
    assert route.calls.last.request.headers["Authorization"] == "Bearer test"
    generation.refresh_from_db()
    assert generation.prediction_id == "p-abc"
    assert generation.status == Status.STARTING
    assert generation.submit_attempts == 1
    assert generation.submitted_at is not None


def test_a_429_is_retried_after_the_delay_replicate_asks_for(user, replicate_api, settings):
    settings.SUBMIT_RETRY_MAX_DELAY = 60
    route = replicate_api.create_prediction().mock(
        side_effect=[
            httpx.Response(429, headers={"Retry-After": "7"}, json={"detail": "throttled"}),
            created(),
        ]
    )
    replicate_api.list_predictions()
    generation = submit(user)

    run_tasks()

    [retry] = scheduled_tasks("submit_prediction")
    wait = (retry.run_after - timezone.now()).total_seconds()
    assert 5 < wait <= 7
    generation.refresh_from_db()
    assert (generation.status, generation.submit_attempts) == (Status.QUEUED, 1)

    make_due("submit_prediction")
    run_tasks()

    generation.refresh_from_db()
    assert generation.status == Status.STARTING
    assert route.call_count == 2


def test_the_wait_comes_from_the_429_detail_without_a_retry_after_header(
    user, replicate_api, settings
):
    settings.SUBMIT_RETRY_MAX_DELAY = 60
    replicate_api.create_prediction().respond(
        429, json={"detail": "Request was throttled. Resets in ~12s."}
    )
    submit(user)

    run_tasks(max_tasks=1)

    [retry] = scheduled_tasks("submit_prediction")
    assert 10 < (retry.run_after - timezone.now()).total_seconds() <= 12


def test_server_errors_and_timeouts_are_retried_until_it_works(
    user, replicate_api, assert_audit_clean
):
    route = replicate_api.create_prediction().mock(
        side_effect=[httpx.Response(500), httpx.ConnectError("refused"), created("p-ok")]
    )
    replicate_api.list_predictions()
    generation = submit(user)

    run_tasks()

    generation.refresh_from_db()
    assert (generation.status, generation.prediction_id) == (Status.STARTING, "p-ok")
    assert generation.submit_attempts == 3
    assert route.call_count == 3
    assert refunds_of(generation) == 0
    assert_audit_clean()


def test_exhausted_retries_fail_the_generation_and_refund_it_once(
    user, replicate_api, settings, assert_audit_clean
):
    settings.SUBMIT_MAX_ATTEMPTS = 3
    route = replicate_api.create_prediction().respond(503, json={"detail": "Service unavailable"})
    replicate_api.list_predictions()
    generation = submit(user)

    run_tasks()

    generation.refresh_from_db()
    assert generation.status == Status.FAILED
    assert generation.failure_reason == FailureReason.SUBMISSION_GAVE_UP
    assert generation.failure_detail == (
        "Replicate could not start the generation: Service unavailable. Gave up after 3 attempts"
    )
    assert route.call_count == 3
    assert refunds_of(generation) == 1
    assert balance_of(user) == 100
    assert not scheduled_tasks("submit_prediction")
    assert_audit_clean()


@pytest.mark.parametrize(
    ("status", "detail"),
    [(422, "input.prompt: prompt is required"), (401, "Unauthenticated"), (402, "No credit")],
)
def test_a_permanent_error_fails_at_once_with_replicates_reason(
    user, replicate_api, assert_audit_clean, status, detail
):
    route = replicate_api.create_prediction().respond(status, json={"detail": detail})
    generation = submit(user)

    run_tasks()

    assert_refunded_once(generation, Status.FAILED, FailureReason.SUBMISSION_REFUSED, detail)
    assert route.call_count == 1
    assert_audit_clean()


def test_a_timed_out_create_is_not_repeated_when_replicate_did_create_the_prediction(
    user, replicate_api, assert_audit_clean
):
    generation = submit(user)
    # The first create reaches Replicate, but its answer is lost to a timeout.
    route = replicate_api.create_prediction().mock(side_effect=httpx.ReadTimeout("no answer"))
    ours = prediction("p-lost", "processing", input={}, webhook="")
    run_tasks(max_tasks=1)
    ours["input"] = json.loads(route.calls.last.request.content)["input"]
    listing = replicate_api.list_predictions(prediction("p-other", "starting"), ours)

    run_tasks()

    generation.refresh_from_db()
    assert generation.prediction_id == "p-lost"
    assert generation.status == Status.PROCESSING
    assert route.call_count == 1
    assert listing.call_count == 1
    assert_audit_clean()


def test_recovery_prefers_the_prediction_carrying_our_webhook_url(user, replicate_api):
    generation = submit(user)
    replicate_api.create_prediction().mock(side_effect=httpx.ReadTimeout("no answer"))
    run_tasks(max_tasks=1)
    webhook = f"https://wan.example/api/webhooks/replicate?generation={generation.pk}"
    other = prediction("p-someone-else", "starting", webhook=webhook + "0")
    ours = prediction("p-ours", "starting", webhook=webhook)
    replicate_api.list_predictions(other, ours)

    run_tasks()

    generation.refresh_from_db()
    assert generation.prediction_id == "p-ours"


def test_a_canceled_generation_is_not_submitted_by_a_pending_retry(user, replicate_api):
    route = replicate_api.create_prediction().mock(side_effect=[httpx.Response(500), created()])
    generation = submit(user)
    run_tasks(max_tasks=1)
    cancel_generation(generation)

    run_tasks()

    assert route.call_count == 1
    assert_refunded_once(generation, Status.CANCELED)


def test_a_prediction_created_for_a_generation_canceled_meanwhile_is_canceled(user, replicate_api):
    generation = submit(user)
    cancel_route = replicate_api.cancel_prediction("p-late").respond(
        200, json=prediction("p-late", "canceled")
    )

    def cancel_while_creating(request: httpx.Request) -> httpx.Response:
        Generation.objects.filter(pk=generation.pk).update(
            status=Status.CANCELED, failure_reason=FailureReason.CANCELED_BY_USER
        )
        return created("p-late")

    replicate_api.create_prediction().mock(side_effect=cancel_while_creating)

    run_tasks()

    assert cancel_route.call_count == 1
    generation.refresh_from_db()
    assert generation.prediction_id is None


def test_a_small_input_image_is_sent_inline(user, replicate_api):
    route = replicate_api.create_prediction("wavespeedai/wan-2.1-i2v-480p").mock(
        return_value=created()
    )
    submit(user, model_key="i2v-14B", image=png())

    run_tasks()

    image = json.loads(route.calls.last.request.content)["input"]["image"]
    assert image.startswith("data:image/png;base64,")


def test_a_large_input_image_is_uploaded_to_replicates_files_api(user, replicate_api):
    upload = replicate_api.post("/v1/files").respond(
        201, json={"id": "f1", "urls": {"get": f"{REPLICATE}/v1/files/f1"}}
    )
    route = replicate_api.create_prediction("wavespeedai/wan-2.1-i2v-480p").mock(
        return_value=created()
    )
    submit(user, model_key="i2v-14B", image=png((400, 300), noise=True))

    run_tasks()

    assert upload.call_count == 1
    assert b'name="content"' in upload.calls.last.request.content
    assert json.loads(route.calls.last.request.content)["input"]["image"] == (
        f"{REPLICATE}/v1/files/f1"
    )


def test_the_watchdog_is_scheduled_at_submission(user, settings):
    settings.WATCHDOG_FIRST_DELAY = 90
    submit(user)

    [watch] = scheduled_tasks("watch_generation")
    assert timedelta(seconds=80) < watch.run_after - timezone.now() <= timedelta(seconds=90)
