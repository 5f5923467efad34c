"""The whole lifecycle over real HTTP: our app under `live_server`, the Replicate simulator,
the task worker in the test thread. PostgreSQL, real transactions (webhooks arrive on the
server's own thread and connection)."""

from __future__ import annotations

import html
import time
from collections.abc import Callable
from datetime import timedelta

import av
import httpx
import pytest
from django.urls import reverse
from django.utils import timezone
from pytest_django import Settings
from pytest_django.live_server_helper import LiveServer

from credits.models import CreditTransaction, TransactionType
from credits.selectors import balance_of
from generations.actions.transitions import begin_submit_attempt
from generations.failures import REJECTIONS, FailureReason
from generations.lifecycle import submission
from generations.lifecycle.submission import retry_generation
from generations.lifecycle.transitions import cancel_generation
from generations.lifecycle.watchdog import watch_generation
from generations.models import Generation, Status
from generations.moderation import MESSAGES, Rejected
from generations.replicate.predictions import PredictionUpdate
from generations.simulator import ReplicateSimulator
from tests.generations.lifecycle_helpers import (
    assert_refunded_once,
    configure,
    png,
    refunds_of,
    run_tasks,
    sign,
    submit,
)
from tests.waiting import wait_until
from webhooks.models import WebhookEvent

pytestmark = pytest.mark.django_db(transaction=True)

WAIT_SECONDS = 15


@pytest.fixture
def sim(
    simulator_factory: Callable[..., ReplicateSimulator],
    live_server: LiveServer,
    settings: Settings,
) -> ReplicateSimulator:
    simulator = simulator_factory()
    configure(settings, base_url=simulator.base_url, webhook_secret=simulator.webhook_secret)
    settings.SITE_URL = live_server.url
    settings.WATCHDOG_FIRST_DELAY = 3600  # the tests run the watchdog themselves
    return simulator


def drive(
    condition: Callable[[], bool], timeout: float = WAIT_SECONDS, *, tasks: bool = True
) -> None:
    """Runs due tasks (unless told not to) until the condition holds, while webhooks arrive;
    bounded."""

    def there() -> bool:
        if tasks:
            run_tasks()
        return condition()

    wait_until(there, timeout=timeout, what="the lifecycle to get there")


def settle(sim: ReplicateSimulator) -> None:
    """Waits for the simulator's last webhooks (a retried terminal one, late copies, stale logs)
    and runs what they enqueued: after this, nothing more arrives."""
    wait_until(lambda: sim.is_idle, timeout=WAIT_SECONDS, what="the simulator's last webhooks")
    run_tasks()


def ended(generation: Generation) -> Callable[[], bool]:
    def check() -> bool:
        generation.refresh_from_db()
        return generation.is_terminal

    return check


def frames_of(generation: Generation) -> int:
    with av.open(generation.video.path) as container:
        return sum(1 for _ in container.decode(video=0))


def test_a_prompt_becomes_a_stored_playable_video(sim, user, assert_audit_clean):
    generation = submit(user, "A paper boat drifting down a rainy street")

    drive(ended(generation))

    assert generation.status == Status.SUCCEEDED
    assert generation.is_ready
    assert generation.progress == 100
    assert frames_of(generation) == 4
    assert generation.poster and generation.poster.size > 0
    assert generation.replicate_status == "succeeded"
    assert generation.prediction_id in sim.predictions
    assert balance_of(user) == 95
    assert refunds_of(generation) == 0
    outcomes = set(
        WebhookEvent.objects.filter(generation=generation).values_list("outcome", flat=True)
    )
    assert "applied" in outcomes
    assert_audit_clean()


def test_an_image_becomes_a_stored_playable_video(sim, user, assert_audit_clean):
    generation = submit(user, "The lighthouse slowly comes alive", model_key="i2v-14B", image=png())

    drive(ended(generation))

    assert generation.status == Status.SUCCEEDED
    assert frames_of(generation) == 4
    assert balance_of(user) == 90
    assert_audit_clean()


def test_a_failed_prediction_is_refunded_exactly_once(sim, user, assert_audit_clean):
    generation = submit(user, "A glass of water that will not render [fail]")

    drive(ended(generation))
    settle(sim)  # the terminal webhook may be retried

    generation.refresh_from_db()
    assert generation.status == Status.FAILED
    assert generation.error_message
    assert refunds_of(generation) == 1
    assert balance_of(user) == 100
    assert_audit_clean()


def test_duplicate_and_reordered_webhooks_change_nothing_extra(
    sim, user, settings, assert_audit_clean
):
    settings.MAX_IN_FLIGHT_PER_USER = 4
    markers = ("[duplicate-webhooks]", "[out-of-order]")
    good = {m: submit(user, f"A hummingbird over a flower {m}") for m in markers}
    bad = {m: submit(user, f"A hummingbird that crashes {m} [fail]") for m in markers}
    everything = [*good.values(), *bad.values()]

    drive(lambda: all(ended(generation)() for generation in everything))
    settle(sim)  # the late copies and the stale logs webhooks

    for generation in everything:
        generation.refresh_from_db()
    for marker in markers:
        assert (good[marker].status, good[marker].progress) == (Status.SUCCEEDED, 100)
        assert good[marker].is_ready
        assert bad[marker].status == Status.FAILED
        assert (refunds_of(good[marker]), refunds_of(bad[marker])) == (0, 1)
    assert balance_of(user) == 90
    duplicated = good["[duplicate-webhooks]"]
    sent = [a for a in sim.webhook_log if a.prediction_id == duplicated.prediction_id]
    assert len({attempt.webhook_id for attempt in sent}) < len(sent)  # one id delivered twice
    # Deliveries that end a generation are recorded once per id; progress is not recorded.
    completed = {attempt.webhook_id for attempt in sent if attempt.event == "completed"}
    events = WebhookEvent.objects.filter(generation=duplicated)
    assert set(events.values_list("webhook_id", flat=True)) == completed
    reordered = good["[out-of-order]"]
    sent = [a for a in sim.webhook_log if a.prediction_id == reordered.prediction_id]
    assert sent[-1].event == "logs"  # a stale logs webhook after the completed one
    assert_audit_clean()


def test_lost_webhooks_the_watchdog_finishes_the_job(sim, user, assert_audit_clean):
    generation = submit(user, "A quiet forest at night [no-webhooks]")
    drive(lambda: Generation.objects.filter(pk=generation.pk, prediction_id__isnull=False).exists())
    sim.wait_for(Generation.objects.get(pk=generation.pk).prediction_id)
    assert not sim.webhook_log

    watch_generation.call(generation.pk, 1)
    drive(ended(generation))

    assert generation.status == Status.SUCCEEDED
    assert generation.is_ready
    assert WebhookEvent.objects.count() == 0
    assert_audit_clean()


def test_throttled_or_failing_creates_are_retried_then_succeed(sim, user, assert_audit_clean):
    throttled = submit(user, "A lantern floating upward [create-429x2]")
    failing = submit(user, "A lantern floating upward [create-500x2]")

    drive(lambda: ended(throttled)() and ended(failing)())

    for generation in (throttled, failing):
        assert generation.status == Status.SUCCEEDED
        assert generation.submit_attempts == 3
    assert len(sim.predictions) == 2  # retried, never duplicated
    assert balance_of(user) == 90
    assert_audit_clean()


def test_creates_failing_every_time_fail_the_generation_and_refund(
    sim, user, settings, assert_audit_clean
):
    settings.SUBMIT_MAX_ATTEMPTS = 3
    generation = submit(user, "A storm that never starts [create-500]")

    drive(ended(generation))

    assert_refunded_once(generation, Status.FAILED, FailureReason.SUBMISSION_GAVE_UP, "3 attempts")
    assert not sim.predictions
    assert balance_of(user) == 100
    assert_audit_clean()


def test_the_same_idempotency_key_makes_one_prediction_charged_once(sim, user, assert_audit_clean):
    first = submit(user, "A kite above the dunes", idempotency_key="key-1")
    second = submit(user, "A kite above the dunes", idempotency_key="key-1")

    drive(ended(first))

    assert first.pk == second.pk
    assert len(sim.predictions) == 1
    assert balance_of(user) == 95
    assert_audit_clean()


def test_canceling_a_running_generation_stops_it_at_replicate_and_refunds(
    sim, user, assert_audit_clean
):
    generation = submit(user, "A clock that never stops ticking [hang]")
    drive(lambda: Generation.objects.get(pk=generation.pk).status == Status.PROCESSING)

    cancel_generation(generation)
    drive(lambda: sim.prediction(generation.prediction_id)["status"] == "canceled")
    settle(sim)  # Replicate's canceled webhook arrives too: it changes nothing

    assert_refunded_once(generation, Status.CANCELED)
    assert balance_of(user) == 100
    assert_audit_clean()


def test_a_failed_generation_retried_succeeds_and_is_charged_again(
    sim, user, settings, assert_audit_clean
):
    settings.SUBMIT_MAX_ATTEMPTS = 2
    # Three rejected creates: the first generation gives up after two, the retry gets through.
    original = submit(user, "A comet over the mountains [create-500x3]")
    drive(ended(original))
    assert original.status == Status.FAILED

    retried = retry_generation(original).generation
    drive(ended(retried))

    assert retried.status == Status.SUCCEEDED
    assert retried.retried_from_id == original.pk
    assert balance_of(user) == 95  # charged, refunded, charged again
    assert_audit_clean()


def crash_after_create(generation: Generation) -> PredictionUpdate:
    """What a submit task does up to the moment it would save the prediction id; then it dies."""
    attempt = begin_submit_attempt(generation.pk)
    assert attempt is not None
    return submission.create_prediction(attempt)


def test_a_crash_before_saving_the_prediction_id_is_recovered_by_its_webhooks(
    sim, user, assert_audit_clean
):
    generation = submit(user, "A violin playing itself")
    prediction = crash_after_create(generation)
    drive(lambda: any(a.event == "start" for a in sim.webhook_log), tasks=False)

    drive(ended(generation))

    assert generation.prediction_id == prediction.prediction_id
    assert generation.status == Status.SUCCEEDED
    assert len(sim.predictions) == 1  # the queued submit task did not create a second one
    assert balance_of(user) == 95
    assert_audit_clean()


def test_a_crash_before_saving_the_prediction_id_is_recovered_by_the_watchdog(
    sim, user, assert_audit_clean
):
    generation = submit(user, "A violin playing itself [no-webhooks]")
    prediction = crash_after_create(generation)
    sim.wait_for(prediction.prediction_id)
    generation.refresh_from_db()
    assert generation.prediction_id is None

    watch_generation.call(generation.pk, 1)
    drive(ended(generation))

    assert generation.prediction_id == prediction.prediction_id
    assert generation.status == Status.SUCCEEDED
    assert len(sim.predictions) == 1
    assert_audit_clean()


def test_a_crash_before_replicate_got_the_request_fails_and_refunds_after_the_grace_period(
    sim, user, settings, assert_audit_clean
):
    settings.SUBMIT_GRACE_PERIOD = 60
    generation = submit(user, "A bridge made of light")
    begin_submit_attempt(generation.pk)  # the task died before its create call went out
    Generation.objects.filter(pk=generation.pk).update(
        created_at=timezone.now() - timedelta(seconds=61)
    )

    watch_generation.call(generation.pk, 1)

    generation.refresh_from_db()
    assert generation.status == Status.FAILED
    assert refunds_of(generation) == 1
    assert balance_of(user) == 100
    run_tasks()  # the queued submit task finds nothing to do
    assert not sim.predictions
    assert_audit_clean()


def headers_of(signed: dict[str, str]) -> dict[str, str]:
    """Django test-client header names (HTTP_WEBHOOK_ID) as HTTP header names (webhook-id)."""
    return {key.removeprefix("HTTP_").replace("_", "-").lower(): v for key, v in signed.items()}


def test_forged_stale_and_garbage_webhooks_over_http_get_4xx_and_change_nothing(
    sim, user, live_server
):
    generation = submit(user, "A sunflower turning to the sun")
    body = b'{"id": "p-forged", "status": "failed"}'
    garbage = b'{"id": "p-forged", "status": '
    url = f"{live_server.url}/api/webhooks/replicate?generation={generation.pk}"
    stale = headers_of(sign(body, secret=sim.webhook_secret, timestamp=int(time.time()) - 600))
    forged = {**stale, "webhook-timestamp": str(int(time.time()))}
    signed_garbage = headers_of(sign(garbage, secret=sim.webhook_secret))

    answers = [
        httpx.post(url, content=content, headers=headers, timeout=5).status_code
        for content, headers in ((body, stale), (body, forged), (garbage, signed_garbage))
    ]

    assert answers == [401, 401, 400]
    generation.refresh_from_db()
    assert generation.status == Status.QUEUED
    assert WebhookEvent.objects.count() == 0


@pytest.mark.parametrize(
    ("marker", "model_key", "rejected"),
    [
        ("[nsfw-prompt]", "t2v-1.3B", Rejected.PROMPT),
        ("[nsfw-image]", "i2v-14B", Rejected.IMAGE),
        ("[nsfw-output]", "t2v-1.3B", Rejected.OUTPUT),
    ],
)
def test_a_safety_rejection_says_what_was_rejected_and_is_refunded(
    sim, user, logged_in, marker, model_key, rejected, assert_audit_clean
):
    image = png() if model_key.startswith("i2v") else None
    generation = submit(user, f"A street parade {marker}", model_key=model_key, image=image)

    drive(ended(generation))

    assert generation.status == Status.FAILED
    assert generation.failure_reason == REJECTIONS[rejected]
    assert generation.error_message == MESSAGES[rejected]
    refund = CreditTransaction.objects.get(generation=generation, type=TransactionType.REFUND)
    assert refund.description.endswith(MESSAGES[rejected])  # the refund line says why
    page = logged_in.get(reverse("detail", args=[generation.pk])).content.decode()
    assert html.escape(MESSAGES[rejected]) in page
    assert balance_of(user) == 100
    assert_audit_clean()
