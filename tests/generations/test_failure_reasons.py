"""Failure reasons are data: the sentence a user reads is rendered from the stored reason, so
rewording it changes neither what Retry allows, nor how the dashboard groups failures, nor the
code the API gives; the provider's own words stay with staff."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import IntegrityError
from django.urls import reverse
from django.utils import timezone

from generations import analytics as generation_analytics
from generations.actions.errors import CannotRetry
from generations.dashboard import top_failures
from generations.failures import SENTENCES, FailureReason
from generations.lifecycle.submission import retry_generation
from generations.lifecycle.transitions import cancel_generation
from generations.models import Generation, Status
from tests.factories import make_generation
from wan_pwa.analytics.dashboard import figures

pytestmark = pytest.mark.django_db

REWORDED = "Our safety checker turned that prompt down."


def failed_two_hours_ago(user, reason: FailureReason, **fields) -> Generation:
    generation = make_generation(user, status=Status.FAILED, failure_reason=reason, **fields)
    moment = timezone.now() - timedelta(hours=2)
    Generation.objects.filter(pk=generation.pk).update(created_at=moment, completed_at=moment)
    return generation


@pytest.mark.usefixtures("replicate_settings")
def test_rewording_a_sentence_changes_neither_retry_nor_the_dashboard_nor_the_api(
    user, api, monkeypatch
):
    rejected = failed_two_hours_ago(user, FailureReason.REJECTED_PROMPT)
    failed_two_hours_ago(user, FailureReason.REJECTED_PROMPT, failure_detail="NSFW (E005)")
    monkeypatch.setitem(SENTENCES, FailureReason.REJECTED_PROMPT, REWORDED)

    assert rejected.error_message == REWORDED
    with pytest.raises(CannotRetry, match="same input would be rejected again"):
        retry_generation(rejected)
    body = api.get(f"/api/v1/generations/{rejected.pk}/").json()
    assert (body["failure_reason"], body["error_message"]) == ("rejected_prompt", REWORDED)
    assert body["rejected"] == "prompt"
    generation_analytics.roll_up()
    assert top_failures(figures("24h")) == [("rejected_prompt", 2)]


@pytest.mark.usefixtures("replicate_settings")
def test_a_model_error_can_be_retried_and_the_api_gives_its_code(user, api):
    failed = make_generation(user, status=Status.FAILED, failure_detail="CUDA out of memory")

    body = api.get(f"/api/v1/generations/{failed.pk}/").json()
    retried = retry_generation(failed).generation

    assert body["failure_reason"] == "provider_error"
    assert body["error_message"] == "The model failed while making the video."
    assert "CUDA" not in str(body)  # the provider's words are for staff
    assert retried.status == Status.QUEUED and retried.failure_reason == ""
    queued = api.get(f"/api/v1/generations/{retried.pk}/").json()
    assert queued["failure_reason"] is None


def test_staff_see_the_reason_and_the_providers_words_in_the_admin(staff_client, user):
    failed = make_generation(user, status=Status.FAILED, failure_detail="CUDA out of memory")

    page = staff_client.get(reverse("admin:generations_generation_change", args=[failed.pk]))

    assert "The model failed" in page.content.decode()
    assert "CUDA out of memory" in page.content.decode()


@pytest.mark.usefixtures("replicate_settings")
def test_a_cancel_by_staff_is_told_apart_from_the_users_own(user, staff_client):
    by_user, by_staff = (
        make_generation(user, status=Status.PROCESSING),
        make_generation(user, status=Status.PROCESSING),
    )

    cancel_generation(by_user)
    staff_client.post(
        reverse("admin:generations_generation_changelist"),
        {"action": "cancel", "_selected_action": [by_staff.pk]},
    )

    by_user.refresh_from_db()
    by_staff.refresh_from_db()
    assert by_user.failure_reason == FailureReason.CANCELED_BY_USER
    assert by_staff.failure_reason == FailureReason.CANCELED_BY_STAFF
    assert by_staff.error_message == "Canceled by our staff."


def test_the_database_refuses_an_unsuccessful_end_without_a_reason(user):
    generation = make_generation(user, status=Status.PROCESSING)

    with pytest.raises(IntegrityError, match="generation_failure_reason"):
        Generation.objects.filter(pk=generation.pk).update(status=Status.FAILED)
