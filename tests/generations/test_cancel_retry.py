"""Cancel and retry: the two actions the pages and the API call."""

from __future__ import annotations

import httpx
import pytest

from credits.actions import InsufficientCredits
from credits.selectors import balance_of
from generations.actions.errors import CannotCancel, CannotRetry
from generations.actions.transitions import UpdateOutcome
from generations.failures import FailureReason
from generations.lifecycle.submission import retry_generation
from generations.lifecycle.transitions import (
    apply_prediction_update,
    cancel_generation,
    mark_failed,
)
from generations.models import Generation, Status
from tests.factories import set_credits
from tests.generations.lifecycle_helpers import (
    png,
    prediction,
    refunds_of,
    run_tasks,
    scheduled_tasks,
    submit,
    update,
)

pytestmark = pytest.mark.usefixtures("replicate_settings")


def test_canceling_a_queued_generation_refunds_it_and_it_is_never_sent(
    user, replicate_api, assert_audit_clean
):
    generation = submit(user)
    assert balance_of(user) == 95

    canceled = cancel_generation(generation)

    assert canceled.status == Status.CANCELED
    assert canceled.completed_at is not None
    assert balance_of(user) == 100
    assert refunds_of(generation) == 1
    run_tasks()  # the submit task finds it canceled and calls nobody
    assert not replicate_api.calls
    assert Generation.objects.get(pk=generation.pk).submit_attempts == 0
    assert_audit_clean()


def test_canceling_a_running_generation_cancels_the_prediction_at_replicate(
    user, replicate_api, assert_audit_clean
):
    generation = submit(user)
    apply_prediction_update(generation.pk, update("p-run", "processing"))
    cancel_route = replicate_api.cancel_prediction("p-run").respond(
        200, json=prediction("p-run", "canceled")
    )

    cancel_generation(generation)
    run_tasks()

    assert cancel_route.call_count == 1
    generation.refresh_from_db()
    assert generation.status == Status.CANCELED
    assert balance_of(user) == 100
    assert_audit_clean()


def test_cancel_retries_replicate_when_it_is_briefly_unavailable(user, replicate_api):
    generation = submit(user)
    apply_prediction_update(generation.pk, update("p-busy", "processing"))
    cancel_route = replicate_api.cancel_prediction("p-busy").mock(
        side_effect=[httpx.Response(503), httpx.Response(200, json=prediction("p-busy"))]
    )

    cancel_generation(generation)
    run_tasks()

    assert cancel_route.call_count == 2


def test_late_webhooks_after_a_cancel_change_nothing(user, replicate_api, assert_audit_clean):
    generation = submit(user)
    apply_prediction_update(generation.pk, update("p-late", "processing"))
    cancel_generation(generation)

    outcome = apply_prediction_update(
        generation.pk,
        update("p-late", "succeeded", output="https://replicate.delivery/x/out.mp4"),
    )

    assert outcome == UpdateOutcome.FINAL
    generation.refresh_from_db()
    assert generation.status == Status.CANCELED
    assert generation.output_url == ""
    assert refunds_of(generation) == 1
    assert_audit_clean()


@pytest.mark.parametrize("how", ["twice", "after failure"])
def test_a_finished_generation_cannot_be_canceled(user, replicate_api, how):
    generation = submit(user)
    if how == "twice":
        cancel_generation(generation)
    else:
        mark_failed(generation.pk, FailureReason.PROVIDER_ERROR)
    balance = balance_of(user)

    with pytest.raises(CannotCancel, match="already"):
        cancel_generation(generation)

    assert balance_of(user) == balance
    assert refunds_of(generation) == 1


def test_a_generation_whose_video_is_being_saved_cannot_be_canceled(user, replicate_api):
    generation = submit(user)
    apply_prediction_update(
        generation.pk,
        update("p-done", "succeeded", output="https://replicate.delivery/x/out.mp4"),
    )

    with pytest.raises(CannotCancel, match="being saved"):
        cancel_generation(generation)
    assert refunds_of(generation) == 0


def test_retry_creates_a_linked_generation_with_the_same_parameters_charged_again(
    user, replicate_api, assert_audit_clean
):
    original = submit(
        user,
        model_key="t2v-14B",
        seed=7,
        negative_prompt="blurry",
        options={"sample_steps": 20, "lora_weights": "https://civitai.com/api/download/models/1"},
    )
    mark_failed(original.pk, FailureReason.PROVIDER_ERROR)
    original.refresh_from_db()

    retried = retry_generation(original).generation

    assert retried.pk != original.pk
    assert retried.retried_from_id == original.pk
    assert retried.status == Status.QUEUED
    assert (retried.prompt, retried.seed, retried.negative_prompt) == (
        original.prompt,
        7,
        "blurry",
    )
    assert (retried.model_key, retried.resolution, retried.aspect_ratio) == (
        original.model_key,
        original.resolution,
        original.aspect_ratio,
    )
    assert retried.options == {
        "sample_steps": 20,
        "lora_weights": "https://civitai.com/api/download/models/1",
    }
    assert balance_of(user) == 90  # 100 - 10, refunded +10, charged again -10
    assert len(scheduled_tasks("submit_prediction")) == 2
    assert_audit_clean()


def test_retrying_an_image_generation_gives_it_its_own_copy_of_the_image(user, replicate_api):
    original = submit(user, model_key="i2v-14B", image=png())
    cancel_generation(original)

    retried = retry_generation(original).generation

    assert retried.input_image
    assert retried.input_image.name != original.input_image.name
    with retried.input_image.open("rb") as copy, original.input_image.open("rb") as source:
        assert copy.read() == source.read()


def test_retry_with_an_idempotency_key_happens_once(user, replicate_api):
    original = submit(user)
    cancel_generation(original)

    first = retry_generation(original, idempotency_key="retry-1").generation
    second = retry_generation(original, idempotency_key="retry-1").generation

    assert first.pk == second.pk
    assert balance_of(user) == 95


@pytest.mark.parametrize("status", [Status.QUEUED, Status.SUCCEEDED])
def test_only_failed_or_canceled_generations_can_be_retried(user, replicate_api, status):
    generation = submit(user)
    Generation.objects.filter(pk=generation.pk).update(
        status=status, prediction_id="p-x", video="videos/x.mp4"
    )
    generation.refresh_from_db()

    with pytest.raises(CannotRetry, match="Only a failed or canceled generation"):
        retry_generation(generation)
    assert Generation.objects.count() == 1


def test_retry_without_enough_credits_creates_and_charges_nothing(
    user, replicate_api, assert_audit_clean
):
    original = submit(user)
    cancel_generation(original)
    set_credits(user, 2)

    with pytest.raises(InsufficientCredits):
        retry_generation(original)

    assert Generation.objects.count() == 1
    assert balance_of(user) == 2
    assert_audit_clean()
