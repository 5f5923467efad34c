"""The watchdog: finishes what lost or late webhooks, crashes and stuck copies leave undone.

Every generation gets a delayed check when it is submitted. A check asks Replicate about the
prediction (or, without a prediction id, looks for one an interrupted submission created) and
applies the answer; while the generation is still in flight the next check is scheduled with a
doubling delay. Past GENERATION_MAX_AGE, or after WATCHDOG_MAX_ATTEMPTS checks, it fails and is
refunded, and its prediction is canceled. `manage.py reconcile_generations` runs the same check
on demand.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django_tasks import task

from generations.failures import FailureReason
from generations.lifecycle import recovery
from generations.lifecycle.output import copy_output
from generations.lifecycle.scheduling import WATCHDOG_PRIORITY, enqueue_later, retry_delay
from generations.lifecycle.transitions import apply_prediction_update, mark_failed
from generations.models import Generation
from generations.replicate import gateway
from generations.replicate.predictions import ReplicateStatus
from wan_pwa.log_context import names_generation

logger = logging.getLogger(__name__)


def check(generation: Generation) -> str:
    """One look at the generation; returns what was done, in words, for logs and commands."""
    if generation.is_terminal:
        return f"already {generation.status}"
    age = timezone.now() - generation.created_at
    result = _bring_up_to_date(generation, age)
    generation.refresh_from_db(fields=["status", "replicate_status"])
    # Too old, unless Replicate has finished and only our copy of the video is pending.
    if (
        generation.is_in_flight
        and generation.replicate_status != ReplicateStatus.SUCCEEDED
        and age > timedelta(seconds=settings.GENERATION_MAX_AGE)
    ):
        mark_failed(generation.pk, FailureReason.TIMED_OUT, cancel_at_replicate=True)
        result += "; failed: too old, refunded"
    return result


def _bring_up_to_date(generation: Generation, age: timedelta) -> str:
    try:
        if generation.prediction_id is None:
            return _find_lost_prediction(generation, age)
        if generation.replicate_status == ReplicateStatus.SUCCEEDED:
            # Replicate is done; our copy of the video has not landed (a crashed copy task).
            copy_output.enqueue(generation.pk)
            return "copying the video again"
        prediction = gateway.get_prediction(generation.prediction_id)
    except gateway.NotFound as error:
        mark_failed(generation.pk, FailureReason.LOST, str(error))
        return "failed: unknown to Replicate, refunded"
    except gateway.GatewayError as error:
        return f"could not ask Replicate: {error}"
    outcome = apply_prediction_update(generation.pk, prediction)
    return f"Replicate says {prediction.replicate_status}: {outcome.label.lower()}"


def _find_lost_prediction(generation: Generation, age: timedelta) -> str:
    if generation.submit_attempts == 0:
        # Its submit task has not run yet (a busy or stopped worker): wait, up to the max age.
        return "waiting for the submission"
    found = recovery.find_prediction(generation)
    if found is not None:
        apply_prediction_update(generation.pk, found)
        return f"recovered prediction {found.prediction_id} ({found.replicate_status})"
    if age > timedelta(seconds=settings.SUBMIT_GRACE_PERIOD):
        mark_failed(generation.pk, FailureReason.NEVER_SUBMITTED)
        return "failed: never reached Replicate, refunded"
    return "waiting for the submission"


def next_delay(check_number: int) -> float:
    return retry_delay(
        check_number + 1,
        base=settings.WATCHDOG_FIRST_DELAY,
        cap=settings.WATCHDOG_MAX_DELAY,
    )


@task(priority=WATCHDOG_PRIORITY)
@names_generation(position=0)
def watch_generation(generation_id: int, check: int = 1) -> None:
    """Asks Replicate about a generation its webhooks have not finished yet.

    Idempotent: a check applies what Replicate says (statuses only move forward, a refund is
    given at most once); a re-run may start a second chain of checks, which ends with the
    generation like the first."""
    scheduled_check(generation_id, check)


def scheduled_check(generation_id: int, check_number: int) -> None:
    """The watchdog task: check, then schedule the next check while still in flight."""
    try:
        generation = Generation.objects.get(pk=generation_id)
    except Generation.DoesNotExist:
        return
    result = check(generation)
    logger.info("watchdog check %d of generation %s: %s", check_number, generation_id, result)
    generation.refresh_from_db(fields=["status"])
    if generation.is_terminal:
        return
    if check_number >= settings.WATCHDOG_MAX_ATTEMPTS:
        mark_failed(generation_id, FailureReason.UNREPORTED, cancel_at_replicate=True)
        return
    enqueue_later(watch_generation, next_delay(check_number), generation_id, check_number + 1)
