"""Telling Replicate to stop a prediction we no longer want (and will not pay for)."""

from __future__ import annotations

import logging

from django.conf import settings
from django_tasks import task

from generations.lifecycle.scheduling import CANCEL_PRIORITY, enqueue_later, retry_delay
from generations.replicate import gateway

logger = logging.getLogger(__name__)


@task(priority=CANCEL_PRIORITY)
def cancel_prediction(prediction_id: str, attempt: int = 1) -> None:
    """Idempotent: canceling an ended prediction changes nothing at Replicate."""
    cancel_at_replicate(prediction_id, attempt)


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
        enqueue_later(cancel_prediction, backoff(attempt, error), prediction_id, attempt + 1)


def backoff(attempt: int, error: gateway.TransientError) -> float:
    """Seconds before calling Replicate again after a transient error (its Retry-After counts)."""
    return retry_delay(
        attempt,
        base=settings.SUBMIT_RETRY_DELAY,
        cap=settings.SUBMIT_RETRY_MAX_DELAY,
        at_least=error.retry_after,
    )
