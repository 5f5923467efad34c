"""The watchdog and `manage.py reconcile_generations`: finishing what webhooks did not."""

from __future__ import annotations

import json
from datetime import timedelta
from io import StringIO

import httpx
import pytest
import respx
from django.core.management import call_command
from django.utils import timezone
from pytest_django import Settings

from generations.actions.transitions import begin_submit_attempt
from generations.failures import FailureReason
from generations.lifecycle.submission import submit_prediction
from generations.lifecycle.transitions import apply_prediction_update
from generations.lifecycle.watchdog import watch_generation
from generations.models import Generation, Status
from tests.fixtures.fake_replicate import ReplicateAPI
from tests.generations.lifecycle_helpers import (
    assert_refunded_once,
    make_due,
    prediction,
    refunds_of,
    run_tasks,
    scheduled_tasks,
    submit,
    tiny_mp4,
    update,
)
from wan_pwa.accounts.models import User

pytestmark = pytest.mark.usefixtures("replicate_settings")

VIDEO_URL = "https://replicate.delivery/w/output.mp4"


@pytest.fixture(autouse=True)
def cancels(replicate_api: ReplicateAPI) -> respx.Route:
    """Replicate's answer when a generation given up on is canceled there."""
    return replicate_api.cancel_any()


@pytest.fixture(autouse=True)
def watchdog_delays(settings: Settings) -> None:
    settings.WATCHDOG_FIRST_DELAY = 60
    settings.WATCHDOG_MAX_DELAY = 300


def running(user: User, prediction_id: str = "p-1") -> Generation:
    """A generation Replicate accepted; its webhooks never come."""
    generation = submit(user)
    begin_submit_attempt(generation.pk)
    apply_prediction_update(generation.pk, update(prediction_id, "starting"))
    generation.refresh_from_db()
    return generation


def age(generation: Generation, seconds: int) -> None:
    Generation.objects.filter(pk=generation.pk).update(
        created_at=timezone.now() - timedelta(seconds=seconds),
        updated_at=timezone.now() - timedelta(seconds=seconds),
    )


def test_lost_webhooks_the_watchdog_finishes_the_job(user, replicate_api, assert_audit_clean):
    generation = running(user)
    replicate_api.get_prediction("p-1").respond(
        200, json=prediction("p-1", "succeeded", output=VIDEO_URL, logs="100%")
    )
    replicate_api.download(VIDEO_URL).respond(200, content=tiny_mp4())

    make_due("watch_generation")
    run_tasks()

    generation.refresh_from_db()
    assert generation.status == Status.SUCCEEDED
    assert generation.is_ready
    make_due("watch_generation")  # the check scheduled meanwhile finds it done
    run_tasks()
    assert not scheduled_tasks("watch_generation")
    assert_audit_clean()


def test_a_failure_found_by_the_watchdog_is_refunded_once(user, replicate_api, assert_audit_clean):
    generation = running(user)
    replicate_api.get_prediction("p-1").respond(200, json=prediction("p-1", "failed", error="OOM"))

    watch_generation.call(generation.pk, 1)
    watch_generation.call(generation.pk, 2)

    assert_refunded_once(generation, Status.FAILED, FailureReason.PROVIDER_ERROR, "OOM")
    assert_audit_clean()


def test_while_still_running_the_next_check_is_scheduled_with_a_longer_delay(user, replicate_api):
    generation = running(user)
    replicate_api.get_prediction("p-1").respond(
        200, json=prediction("p-1", "processing", logs="30%")
    )

    watch_generation.call(generation.pk, 1)
    watch_generation.call(generation.pk, 2)

    generation.refresh_from_db()
    assert (generation.status, generation.progress) == (Status.PROCESSING, 30)
    delays = sorted(
        (task.args_kwargs["args"][1], (task.run_after - timezone.now()).total_seconds())
        for task in scheduled_tasks("watch_generation")
        if task.args_kwargs["args"][1] > 1
    )
    assert [check for check, _ in delays] == [2, 3]
    assert 110 < delays[0][1] <= 120  # 60 s doubled
    assert 230 < delays[1][1] <= 240  # doubled again (capped at 300 later)


def test_after_the_last_check_the_generation_fails_refunds_and_is_canceled(
    user, replicate_api, cancels, settings, assert_audit_clean
):
    settings.WATCHDOG_MAX_ATTEMPTS = 3
    generation = running(user)
    replicate_api.get_prediction("p-1").respond(200, json=prediction("p-1", "processing"))

    watch_generation.call(generation.pk, 3)
    run_tasks()

    assert_refunded_once(generation, Status.FAILED, FailureReason.UNREPORTED)
    assert cancels.call_count == 1
    assert_audit_clean()


def test_past_the_maximum_age_it_fails_and_refunds(
    user, replicate_api, cancels, settings, assert_audit_clean
):
    settings.GENERATION_MAX_AGE = 600
    generation = running(user)
    age(generation, 601)
    replicate_api.get_prediction("p-1").respond(200, json=prediction("p-1", "processing"))

    watch_generation.call(generation.pk, 1)
    run_tasks()

    assert_refunded_once(generation, Status.FAILED, FailureReason.TIMED_OUT)
    assert cancels.call_count == 1
    assert len(scheduled_tasks("watch_generation")) == 1  # only the one from submission
    assert_audit_clean()


def test_a_prediction_replicate_no_longer_knows_fails_and_refunds(user, replicate_api):
    generation = running(user)
    replicate_api.get_prediction("p-1").respond(404, json={"detail": "Not found"})

    watch_generation.call(generation.pk, 1)

    assert_refunded_once(generation, Status.FAILED, FailureReason.LOST, "Not found")


def test_replicate_being_unreachable_only_delays_the_check(user, replicate_api):
    generation = running(user)
    replicate_api.get_prediction("p-1").mock(side_effect=httpx.ConnectError("down"))

    watch_generation.call(generation.pk, 1)

    generation.refresh_from_db()
    assert generation.status == Status.STARTING
    assert sorted(t.args_kwargs["args"][1] for t in scheduled_tasks("watch_generation")) == [1, 2]


def test_a_crashed_submission_is_recovered_from_replicates_list(
    user, replicate_api, assert_audit_clean
):
    generation = submit(user)
    # The create reaches Replicate, but the submit task never hears back.
    create = replicate_api.create_prediction().mock(side_effect=httpx.ReadTimeout("no answer"))
    submit_prediction.call(generation.pk)
    sent = json.loads(create.calls.last.request.content)["input"]
    ours = prediction("p-orphan", "processing", input=sent)
    replicate_api.list_predictions(ours)

    watch_generation.call(generation.pk, 1)

    generation.refresh_from_db()
    assert generation.prediction_id == "p-orphan"
    assert generation.status == Status.PROCESSING
    assert refunds_of(generation) == 0
    assert_audit_clean()


def test_a_submission_that_never_reached_replicate_fails_after_the_grace_period(
    user, replicate_api, settings, assert_audit_clean
):
    settings.SUBMIT_GRACE_PERIOD = 300
    generation = submit(user)
    begin_submit_attempt(generation.pk)
    replicate_api.list_predictions()

    watch_generation.call(generation.pk, 1)
    generation.refresh_from_db()
    assert generation.status == Status.QUEUED  # still within the grace period

    age(generation, 301)
    watch_generation.call(generation.pk, 2)

    assert_refunded_once(generation, Status.FAILED, FailureReason.NEVER_SUBMITTED)
    assert_audit_clean()


def test_a_stuck_copy_is_started_again(user, replicate_api):
    generation = running(user)
    apply_prediction_update(generation.pk, update("p-1", "succeeded", output=VIDEO_URL))
    assert len(scheduled_tasks("copy_output")) == 1  # imagine its worker died
    replicate_api.download(VIDEO_URL).respond(200, content=tiny_mp4())

    watch_generation.call(generation.pk, 1)

    assert len(scheduled_tasks("copy_output")) == 2
    run_tasks()
    generation.refresh_from_db()
    assert generation.status == Status.SUCCEEDED


def test_reconcile_generations_checks_every_stale_generation_and_says_what_it_did(
    user, replicate_api
):
    finished = running(user, "p-done")
    still = running(user, "p-busy")
    fresh = running(user, "p-fresh")
    for generation in (finished, still):
        age(generation, 120)
    replicate_api.get_prediction("p-done").respond(200, json=prediction("p-done", "canceled"))
    replicate_api.get_prediction("p-busy").respond(200, json=prediction("p-busy", "processing"))
    out = StringIO()

    call_command("reconcile_generations", "--older-than", "60", stdout=out)

    output = out.getvalue()
    assert f"#{finished.pk} (starting): Replicate says canceled" in output
    assert f"#{still.pk} (starting): Replicate says processing" in output
    assert f"#{fresh.pk}" not in output
    assert "Checked 2 stale generations." in output
    finished.refresh_from_db()
    assert finished.status == Status.CANCELED
    assert refunds_of(finished) == 1


def test_a_submission_still_waiting_for_a_busy_worker_is_not_failed_early(
    user, replicate_api, settings
):
    settings.SUBMIT_GRACE_PERIOD = 300
    generation = submit(user)  # its submit task has not run yet
    age(generation, 301)

    watch_generation.call(generation.pk, 1)

    generation.refresh_from_db()
    assert generation.status == Status.QUEUED
    assert refunds_of(generation) == 0


def test_an_old_generation_whose_video_is_being_copied_is_not_given_up(
    user, replicate_api, settings
):
    settings.GENERATION_MAX_AGE = 600
    generation = running(user)
    apply_prediction_update(generation.pk, update("p-1", "succeeded", output=VIDEO_URL))
    age(generation, 601)
    replicate_api.download(VIDEO_URL).respond(200, content=tiny_mp4())

    watch_generation.call(generation.pk, 1)
    run_tasks()

    generation.refresh_from_db()
    assert generation.status == Status.SUCCEEDED
    assert refunds_of(generation) == 0
