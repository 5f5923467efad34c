"""Starting a generation and sending it to Replicate.

`submit_generation` and `retry_generation` are how pages, the API and commands start one: the
parameters validated first, then one transaction that applies the policy, creates and charges it
(generations.actions.submission) and enqueues its submission and its watchdog. The submit task
then creates the prediction.

Crash safety: the attempt is counted in the database before Replicate is called, the input about
to be sent is kept on the generation, the webhook URL carries our generation id, and a retry
first looks for a prediction an earlier attempt may have created (a timeout does not mean
nothing was created). A crash between Replicate creating the prediction and us saving its id is
therefore recovered by the first webhook (which adopts the prediction) or by the watchdog (which
finds it in Replicate's list, see generations.lifecycle.recovery).
"""

from __future__ import annotations

import logging
import mimetypes

from django.conf import settings
from django.db import transaction
from django.db.models.fields.files import FieldFile
from django_tasks import task

from generations import request_webhook
from generations.actions import submission as actions
from generations.actions import transitions
from generations.actions.params import GenerationParams, check_idempotency_key, stored_inputs
from generations.actions.submission import Submission
from generations.failures import FailureReason
from generations.lifecycle import recovery
from generations.lifecycle.cancellation import backoff
from generations.lifecycle.scheduling import SUBMIT_PRIORITY, enqueue_later
from generations.lifecycle.transitions import apply_prediction_update, mark_failed
from generations.lifecycle.watchdog import watch_generation
from generations.models import Generation
from generations.replicate import gateway
from generations.replicate.inputs import (
    comparable_input,
    deadline_seconds,
    prediction_input,
    replicate_model,
    webhook_url,
)
from generations.replicate.predictions import PredictionUpdate
from generations.request_webhook import RequestWebhook
from wan_pwa.accounts.models import ApiKey, User
from wan_pwa.log_context import names_generation
from wan_pwa.outgoing_webhooks.actions import attach_request_webhook

logger = logging.getLogger(__name__)

# Each input file in words, for Replicate's errors about it.
INPUT_FILE_WORDS = {
    "image": "input image",
    "audio": "audio track",
    "video": "source video",
    "mask": "mask video",
    "end_image": "end image",
}


def submit_generation(
    user: User,
    params: GenerationParams,
    *,
    idempotency_key: str | None = None,
    api_key: ApiKey | None = None,
    webhook: RequestWebhook | None = None,
) -> Submission:
    """The one way to start a generation (pages, API, commands, tests); `api_key` is the key
    an API request came with, whose monthly credit cap then applies; `webhook` a URL its
    endings are sent to, registered with it (not again for a replay of the same key).

    Raises ValidationError (field errors) before anything else; then, in one transaction,
    IdempotencyKeyReused, AccountSuspended, CreditDebtOutstanding, KeyCreditCapReached,
    InsufficientCredits or a LimitExceeded. Nothing is created or charged then.
    """
    return _submit(
        user, params, idempotency_key, retried_from=None, api_key=api_key, webhook=webhook
    )


def retry_generation(
    generation: Generation,
    *,
    idempotency_key: str | None = None,
    api_key: ApiKey | None = None,
) -> Submission:
    """A new generation with the same parameters, linked by `retried_from` and charged again,
    under the same policy as submit_generation. CannotRetry unless the generation failed or was
    canceled and still has its inputs."""
    params = actions.retry_params(generation)
    try:
        return _submit(
            generation.user, params, idempotency_key, retried_from=generation, api_key=api_key
        )
    finally:
        params.close_files()


def _submit(
    user: User,
    params: GenerationParams,
    idempotency_key: str | None,
    retried_from: Generation | None,
    api_key: ApiKey | None,
    webhook: RequestWebhook | None = None,
) -> Submission:
    # Validated outside the transaction: a refused upload is counted even though nothing is made.
    check_idempotency_key(idempotency_key)
    valid = params.clean()
    with transaction.atomic():
        submission = actions.check_submit_generation(
            user,
            valid,
            idempotency_key=idempotency_key,
            retried_from=retried_from,
            api_key=api_key,
        )
        if submission.created:
            generation_id = submission.generation.pk
            if webhook is not None:
                attach_request_webhook(
                    user, request_webhook.subject(generation_id), webhook.url, webhook.events
                )
            submit_prediction.enqueue(generation_id)
            # The watchdog runs whatever happens to the submission (a crash, lost webhooks).
            enqueue_later(watch_generation, settings.WATCHDOG_FIRST_DELAY, generation_id, 1)
    return submission


@task(priority=SUBMIT_PRIORITY)
@names_generation(position=0)
def submit_prediction(generation_id: int) -> None:
    """Creates the Replicate prediction for a queued generation.

    Idempotent: an attempt does nothing once the generation has a prediction or has ended, and a
    second attempt first looks for the prediction an interrupted one may have created."""
    submit(generation_id)


def _file_url(stored: FieldFile, what: str) -> str | None:
    """A URL Replicate reads the stored input file from; None when there is none."""
    name = stored.name
    if not name:
        return None
    content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    with stored.open("rb") as content:
        return gateway.file_input(
            content, filename=name.rsplit("/", 1)[-1], content_type=content_type, what=what
        )


def create_prediction(generation: Generation) -> PredictionUpdate:
    """One create call to Replicate for the generation (raises gateway errors), the input it
    sends kept on the generation first."""
    model_input = prediction_input(
        generation,
        {
            name: _file_url(stored, INPUT_FILE_WORDS[name])
            for name, stored in stored_inputs(generation)
        },
    )
    transitions.record_prediction_input(generation, comparable_input(model_input))
    return gateway.create_prediction(
        replicate_model(generation),
        model_input,
        webhook_url(generation),
        cancel_after=deadline_seconds(generation),
    )


def submit(generation_id: int) -> None:
    """The submit task's work: create the prediction, retrying transient errors with backoff."""
    generation = transitions.begin_submit_attempt(generation_id)
    if generation is None:
        return
    attempt = generation.submit_attempts
    try:
        prediction = (recovery.find_prediction(generation) if attempt > 1 else None) or (
            create_prediction(generation)
        )
    except gateway.PermanentError as error:
        mark_failed(generation_id, FailureReason.SUBMISSION_REFUSED, str(error))
        return
    except gateway.TransientError as error:
        if attempt >= settings.SUBMIT_MAX_ATTEMPTS:
            mark_failed(
                generation_id,
                FailureReason.SUBMISSION_GAVE_UP,
                f"{error} Gave up after {attempt} attempts",
            )
            return
        delay = backoff(attempt, error)
        logger.info("generation %s: %s Trying again in %.0f s.", generation_id, error, delay)
        enqueue_later(submit_prediction, delay, generation_id)
        return
    apply_prediction_update(generation_id, prediction)
