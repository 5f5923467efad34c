"""Writes of the webhooks app: recording a delivery and applying it, in one transaction."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction

from generations.actions import UpdateOutcome, apply_prediction_update
from generations.replicate import predictions
from webhooks.models import WebhookEvent

DUPLICATE = "duplicate"


def receive_replicate_webhook(
    webhook_id: str, generation_id: int, prediction: dict[str, Any]
) -> str:
    """Applies the delivery to the generation and returns the outcome.

    News of a running prediction (Replicate sends its logs every half second) is one
    conditional UPDATE: applying it twice, late or out of order changes nothing, so it needs
    neither a lock nor a record. Any other delivery is recorded under its unique webhook id in
    the transaction that applies it, so one seen before is acknowledged without any effect.
    """
    update = predictions.parse(prediction)
    if update.is_running:
        return apply_prediction_update(generation_id, update)
    with transaction.atomic():
        try:
            with transaction.atomic():
                event = WebhookEvent.objects.create(
                    source=WebhookEvent.Source.REPLICATE,
                    webhook_id=webhook_id,
                    prediction_id=prediction["id"],
                    replicate_status=prediction["status"],
                    payload=prediction,
                )
        except IntegrityError:
            return DUPLICATE
        _apply(event, generation_id)
    return event.outcome


def reprocess_webhook_event(event: WebhookEvent) -> str:
    """Applies a recorded delivery again (from the admin), e.g. after fixing a generation."""
    with transaction.atomic():
        if event.generation_id is None:
            return event.outcome
        _apply(event, event.generation_id)
    return event.outcome


def _apply(event: WebhookEvent, generation_id: int) -> None:
    outcome = apply_prediction_update(generation_id, predictions.parse(event.payload))
    event.outcome = outcome
    # Linked only once it is known to exist (the foreign key is checked at commit).
    if outcome != UpdateOutcome.UNKNOWN_GENERATION:
        event.generation_id = generation_id
    event.save(update_fields=["outcome", "generation"])
