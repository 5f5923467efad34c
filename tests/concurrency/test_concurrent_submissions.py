"""Real threads against PostgreSQL through the generation actions: submissions never overdraw,
an idempotency key charges once, and racing endings refund exactly once."""

from __future__ import annotations

import functools
from collections import Counter

import pytest
from django.test import Client

from credits.selectors import balance_of
from generations.failures import FailureReason
from generations.lifecycle.transitions import (
    apply_prediction_update,
    cancel_generation,
    mark_failed,
)
from generations.models import Generation, Status
from tests.concurrency.threads import race
from tests.generations.lifecycle_helpers import (
    post_webhook,
    prediction,
    refunds_of,
    submit,
    update,
)
from webhooks.models import WebhookEvent

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("replicate_settings"),
]


def kinds(results: list) -> Counter:
    return Counter(type(result).__name__ for result in results)


def test_twenty_concurrent_submissions_from_one_user_never_overdraw(
    user, settings, assert_audit_clean
):
    # 100 credits, 10 per generation: exactly ten get through (the other limits raised).
    settings.MAX_IN_FLIGHT_PER_USER = settings.API_SUBMISSIONS_PER_MINUTE = 100
    results = race(
        [
            functools.partial(
                submit, user, f"Concurrent submission number {n}", model_key="t2v-14B"
            )
            for n in range(20)
        ]
    )

    assert kinds(results) == {"Generation": 10, "InsufficientCredits": 10}
    assert Generation.objects.count() == 10
    assert balance_of(user) == 0
    assert_audit_clean()


def test_concurrent_submissions_with_one_idempotency_key_create_and_charge_once(
    user, assert_audit_clean
):
    results = race([lambda: submit(user, idempotency_key="same-key") for _ in range(8)])

    assert kinds(results) == {"Generation": 8}
    assert len({generation.pk for generation in results}) == 1
    assert Generation.objects.count() == 1
    assert balance_of(user) == 95
    assert_audit_clean()


def test_the_same_failed_webhook_delivered_concurrently_refunds_once(user, assert_audit_clean):
    generation = submit(user)
    apply_prediction_update(generation.pk, update("p-1", "processing"))
    failed = prediction("p-1", "failed", error="boom")

    def deliver(n: int) -> int:
        webhook_id = "msg_same" if n % 2 else f"msg_{n}"
        return post_webhook(Client(), generation, failed, webhook_id=webhook_id).status_code

    # Eight deliveries at once: four copies of one webhook id, four distinct ids.
    results = race([functools.partial(deliver, n) for n in range(8)])

    assert results == [200] * 8
    assert WebhookEvent.objects.count() == 5
    assert refunds_of(generation) == 1
    assert balance_of(user) == 100
    assert_audit_clean()


def test_cancel_racing_a_failure_and_a_success_ends_once_with_one_refund(user, assert_audit_clean):
    for round_number in range(5):
        generation = submit(user, f"Round {round_number} of cancel against endings")
        prediction_id = f"p-race-{round_number}"
        apply_prediction_update(generation.pk, update(prediction_id, "processing"))

        race(
            [
                functools.partial(cancel_generation, generation),
                functools.partial(mark_failed, generation.pk, FailureReason.UNREPORTED),
                functools.partial(
                    apply_prediction_update,
                    generation.pk,
                    update(prediction_id, "failed", error="boom"),
                ),
            ]
        )

        generation.refresh_from_db()
        assert generation.status in (Status.CANCELED, Status.FAILED)
        assert refunds_of(generation) == 1
    assert balance_of(user) == 100
    assert_audit_clean()
