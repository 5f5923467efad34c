"""Creating a generation's prediction on Replicate (the submit task), and canceling ones we drop.

Crash safety: the attempt is counted in the database before Replicate is called, the webhook URL
carries our generation id, and a retry first looks for a prediction an earlier attempt may have
created (a timeout does not mean nothing was created). A crash between Replicate creating the
prediction and us saving its id is therefore recovered by the first webhook (which adopts the
prediction) or by the watchdog (which finds it in Replicate's list), see generations/recovery.py.
"""

from __future__ import annotations

import logging
import mimetypes

from django.conf import settings
from django.db.models.fields.files import FieldFile

from generations import actions, tasks
from generations.failures import FailureReason
from generations.models import Generation
from generations.replicate import gateway, recovery
from generations.replicate.inputs import (
    deadline_seconds,
    prediction_input,
    replicate_model,
    webhook_url,
)
from generations.replicate.predictions import PredictionUpdate

logger = logging.getLogger(__name__)


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
    """One create call to Replicate for the generation (raises gateway errors)."""
    model_input = prediction_input(
        generation,
        image_url=_file_url(generation.input_image, "input image"),
        audio_url=_file_url(generation.input_audio, "audio track"),
    )
    return gateway.create_prediction(
        replicate_model(generation),
        model_input,
        webhook_url(generation),
        cancel_after=deadline_seconds(generation),
    )


def submit(generation_id: int) -> None:
    """The submit task: create the prediction, retrying transient errors with backoff."""
    generation = actions.begin_submit_attempt(generation_id)
    if generation is None:
        return
    attempt = generation.submit_attempts
    try:
        prediction = (recovery.find_prediction(generation) if attempt > 1 else None) or (
            create_prediction(generation)
        )
    except gateway.PermanentError as error:
        actions.mark_failed(generation_id, FailureReason.SUBMISSION_REFUSED, str(error))
        return
    except gateway.TransientError as error:
        if attempt >= settings.SUBMIT_MAX_ATTEMPTS:
            actions.mark_failed(
                generation_id,
                FailureReason.SUBMISSION_GAVE_UP,
                f"{error} Gave up after {attempt} attempts",
            )
            return
        delay = _backoff(attempt, error)
        logger.info("generation %s: %s Trying again in %.0f s.", generation_id, error, delay)
        tasks.enqueue_later(tasks.submit_prediction, delay, generation_id)
        return
    actions.apply_prediction_update(generation_id, prediction)


def cancel_at_replicate(prediction_id: str, attempt: int) -> None:
    """The cancel task: stop a prediction nobody will use, retrying transient errors."""
    try:
        gateway.cancel_prediction(prediction_id)
    except gateway.PermanentError as error:  # unknown, or already over: nothing to stop
        logger.info("prediction %s: %s", prediction_id, error)
    except gateway.TransientError as error:
        if attempt >= settings.SUBMIT_MAX_ATTEMPTS:
            logger.warning("prediction %s: %s; giving up canceling it", prediction_id, error)
            return
        tasks.enqueue_later(
            tasks.cancel_prediction, _backoff(attempt, error), prediction_id, attempt + 1
        )


def _backoff(attempt: int, error: gateway.TransientError) -> float:
    """Seconds before calling Replicate again after a transient error (its Retry-After counts)."""
    return tasks.retry_delay(
        attempt,
        base=settings.SUBMIT_RETRY_DELAY,
        cap=settings.SUBMIT_RETRY_MAX_DELAY,
        at_least=error.retry_after,
    )
