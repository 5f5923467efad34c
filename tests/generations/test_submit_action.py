"""submit_generation: validation, the charge, the queued generation and its tasks, at once."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError

from credits.actions import InsufficientCredits
from credits.models import CreditTransaction
from credits.selectors import balance_of
from generations.actions.errors import IdempotencyKeyReused
from generations.models import Generation, Kind, Status
from tests.factories import set_credits
from tests.generations.lifecycle_helpers import (
    png,
    scheduled_tasks,
    stored_files,
    submit,
)

pytestmark = pytest.mark.usefixtures("replicate_settings")


def test_a_submission_is_charged_queued_and_handed_to_the_worker(user, assert_audit_clean):
    generation = submit(user, "  A whale breaching in slow motion  ", seed=9)

    assert generation.status == Status.QUEUED
    assert generation.kind == Kind.TEXT_TO_VIDEO
    assert generation.prompt == "A whale breaching in slow motion"  # trimmed
    assert (generation.cost, generation.seed) == (5, 9)
    assert balance_of(user) == 95
    deduction = CreditTransaction.objects.get(generation=generation)
    assert (deduction.type, deduction.amount) == ("deduction", -5)
    assert [t.args_kwargs["args"] for t in scheduled_tasks("submit_prediction")] == [
        [generation.pk]
    ]
    assert [t.args_kwargs["args"] for t in scheduled_tasks("watch_generation")] == [
        [generation.pk, 1]
    ]
    assert_audit_clean()


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"prompt": "too short"}, "prompt"),
        ({"prompt": "x" * 501}, "prompt"),
        ({"negative_prompt": "n" * 501}, "negative_prompt"),
        ({"seed": -1}, "seed"),
        ({"seed": 2**31}, "seed"),
        ({"model_key": "t2v-9B"}, "model_key"),
        ({"model_key": "t2v-1.3B", "resolution": "720p"}, "resolution"),
        ({"aspect_ratio": "1:1"}, "aspect_ratio"),
        ({"model_key": "i2v-14B"}, "image"),
    ],
)
def test_invalid_parameters_create_and_charge_nothing(user, params, field):
    prompt = params.pop("prompt", "A valid prompt for a video")

    with pytest.raises(ValidationError) as raised:
        submit(user, prompt, **params)

    assert field in raised.value.message_dict
    assert Generation.objects.count() == 0
    assert balance_of(user) == 100
    assert not scheduled_tasks("submit_prediction")


def test_a_text_model_refuses_an_image(user):
    with pytest.raises(ValidationError) as raised:
        submit(user, image=png())
    assert "image" in raised.value.message_dict


def test_not_enough_credits_creates_charges_and_stores_nothing(
    user, isolated_media, assert_audit_clean
):
    set_credits(user, 15)

    with pytest.raises(InsufficientCredits) as raised:
        submit(user, model_key="i2v-14B", resolution="720p", image=png())

    assert (raised.value.needed, raised.value.available) == (20, 15)
    assert "20 credits" in str(raised.value)
    assert Generation.objects.count() == 0
    assert balance_of(user) == 15
    assert stored_files(isolated_media) == []
    assert_audit_clean()


def test_an_image_generation_keeps_its_validated_image(user):
    generation = submit(user, model_key="i2v-14B", image=png())

    assert generation.kind == Kind.IMAGE_TO_VIDEO
    assert generation.input_image.name.endswith(".png")
    assert balance_of(user) == 90


def test_the_same_idempotency_key_returns_the_first_generation_charged_once(user, make_user):
    first = submit(user, idempotency_key="abc")
    again = submit(user, idempotency_key="abc")
    with pytest.raises(IdempotencyKeyReused):
        submit(user, "A different prompt this time", idempotency_key="abc")
    someone_else = submit(make_user(), idempotency_key="abc")  # keys are per user

    assert again.pk == first.pk
    assert someone_else.pk != first.pk
    assert balance_of(user) == 95
    assert Generation.objects.filter(user=user).count() == 1


def test_an_overlong_idempotency_key_is_a_field_error(user):
    with pytest.raises(ValidationError) as raised:
        submit(user, idempotency_key="k" * 129)
    assert "idempotency_key" in raised.value.message_dict
    assert Generation.objects.count() == 0


def test_the_database_refuses_a_running_status_without_a_prediction(user):
    generation = submit(user)
    with pytest.raises(IntegrityError):
        Generation.objects.filter(pk=generation.pk).update(status=Status.PROCESSING)


def test_the_database_refuses_success_without_a_stored_video(user):
    generation = submit(user)
    with pytest.raises(IntegrityError):
        Generation.objects.filter(pk=generation.pk).update(
            status=Status.SUCCEEDED, prediction_id="p-1"
        )
