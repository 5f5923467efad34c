"""Reading Replicate's safety-checker errors: which part was rejected, and whether a retry of the
same input could pass."""

from __future__ import annotations

import pytest
from django.urls import reverse

from credits.selectors import balance_of
from generations.actions.errors import CannotRetry
from generations.failures import FailureReason
from generations.lifecycle.submission import retry_generation
from generations.models import Generation, Status
from generations.moderation import Rejected, rejection_in, retry_refusal
from generations.replicate.predictions import parse
from tests.factories import make_generation
from wan_pwa.accounts.models import User


@pytest.mark.parametrize(
    ("error", "had_image", "rejected"),
    [
        ("NSFW content detected in the prompt. Try a different prompt.", True, Rejected.PROMPT),
        ("NSFW content detected in the input image. Try another image.", True, Rejected.IMAGE),
        (
            "NSFW content detected in the output video. Try running it again, or try a "
            "different prompt.",  # the advice after the first sentence does not decide
            False,
            Rejected.OUTPUT,
        ),
        ("Input data may contain inappropriate content.", False, Rejected.PROMPT),
        ("Input data may contain inappropriate content.", True, Rejected.INPUT),
        (
            "Output data may contain inappropriate content. (DataInspectionFailed)",
            True,
            Rejected.OUTPUT,
        ),
        (
            "The input or output was flagged as sensitive. Please try again with different "
            "inputs. (E005)",
            False,
            Rejected.UNSAID,
        ),
        (
            "NSFW content detected. Try running it again, or try a different prompt.",
            False,
            Rejected.UNSAID,
        ),
        ("CUDA out of memory. Tried to allocate 2.00 GiB", True, None),
        ("Prompt must be at most 500 characters", False, None),
    ],
)
def test_the_error_says_which_part_the_safety_checker_rejected(error, had_image, rejected):
    assert rejection_in(error, had_image=had_image) == rejected


def test_an_input_rejection_is_told_apart_by_the_image_in_the_predictions_input():
    error = "Input data may contain inappropriate content."
    with_image = {"id": "p1", "status": "failed", "error": error, "input": {"image": "https://x"}}
    without = {"id": "p2", "status": "failed", "error": error, "input": {"prompt": "a cat"}}
    assert parse(with_image).failure_reason == FailureReason.REJECTED_INPUT
    assert parse(without).failure_reason == FailureReason.REJECTED_PROMPT
    assert parse(without).failure_detail == error  # the checker's own words, for staff


@pytest.mark.parametrize(
    ("rejected", "fixed_seed", "refused"),
    [
        (Rejected.PROMPT, False, "the same input would be rejected again"),
        (Rejected.IMAGE, False, "Remix it with a different input image"),
        (Rejected.INPUT, True, "the same input would be rejected again"),
        (Rejected.OUTPUT, False, None),  # a random seed makes another video
        (Rejected.OUTPUT, True, "same seed"),
        (Rejected.UNSAID, False, None),
        (None, True, None),
    ],
)
def test_retry_is_refused_only_when_the_same_input_must_be_rejected_again(
    rejected, fixed_seed, refused
):
    reason = retry_refusal(rejected, fixed_seed=fixed_seed)
    if refused is None:
        assert reason is None
    else:
        assert reason is not None and refused in reason


@pytest.fixture
def rejected_prompt(user: User) -> Generation:
    return make_generation(user, status=Status.FAILED, failure_reason=FailureReason.REJECTED_PROMPT)


@pytest.mark.django_db
def test_the_card_explains_why_retry_is_not_offered(logged_in, rejected_prompt):
    page = logged_in.get(reverse("history")).content.decode()
    assert "The model&#x27;s safety checker rejected the prompt." in page
    assert "the same input would be rejected again" in page
    assert reverse("retry", args=[rejected_prompt.pk]) not in page
    assert f"?remix={rejected_prompt.pk}" in page  # Remix is how to change it


@pytest.mark.django_db
def test_retrying_a_rejected_prompt_is_refused_and_charges_nothing(
    logged_in, api, user, rejected_prompt
):
    balance = balance_of(user)
    page = logged_in.post(reverse("retry", args=[rejected_prompt.pk]), follow=True)
    assert "the same input would be rejected again" in page.content.decode()

    response = api.post(f"/api/v1/generations/{rejected_prompt.pk}/retry/")
    assert response.status_code == 409
    assert "the same input would be rejected again" in response.json()["error"]["message"]
    assert Generation.objects.filter(user=user).count() == 1
    assert balance_of(user) == balance


@pytest.mark.django_db
def test_the_api_says_what_was_rejected(api, rejected_prompt):
    body = api.get(f"/api/v1/generations/{rejected_prompt.pk}/").json()
    assert body["rejected"] == "prompt"
    assert "rejected again" in body["retry_refusal"]


@pytest.mark.django_db
@pytest.mark.usefixtures("replicate_settings")
def test_a_rejected_video_with_a_random_seed_can_be_retried_but_not_with_a_fixed_one(user):
    def rejected_video(seed: int | None) -> Generation:
        return make_generation(
            user, status=Status.FAILED, failure_reason=FailureReason.REJECTED_OUTPUT, seed=seed
        )

    retried = retry_generation(rejected_video(seed=None)).generation
    assert retried.status == Status.QUEUED
    with pytest.raises(CannotRetry, match="same seed"):
        retry_generation(rejected_video(seed=42))
