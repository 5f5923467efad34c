"""Writes of the webhooks app: recording a delivery and applying it, in one transaction."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.db import IntegrityError, transaction

from credits.actions import OrderOutcome
from generations.actions.transitions import UpdateOutcome
from generations.lifecycle.transitions import apply_prediction_update
from generations.replicate import predictions
from generations.replicate.predictions import PredictionUpdate
from wan_pwa.analytics.counters import count_event
from webhooks import stripe_events
from webhooks.models import StripeEvent, WebhookEvent

DUPLICATE = "duplicate"


def receive_replicate_webhook(
    webhook_id: str, generation_id: int, update: PredictionUpdate, payload: dict[str, Any]
) -> str:
    """Applies the delivery (`payload`, parsed once by the view into `update`) to the generation
    and returns the outcome.

    News of a running prediction (Replicate sends its logs every half second) is one
    conditional UPDATE: applying it twice, late or out of order changes nothing, so it needs
    neither a lock nor a record. Any other delivery is recorded under its unique webhook id in
    the transaction that applies it, so one seen before is acknowledged without any effect.
    """
    if update.is_running:
        return apply_prediction_update(generation_id, update)
    with transaction.atomic():
        try:
            with transaction.atomic():
                event = WebhookEvent.objects.create(
                    source=WebhookEvent.Source.REPLICATE,
                    webhook_id=webhook_id,
                    prediction_id=update.prediction_id,
                    replicate_status=update.replicate_status,
                    payload=payload,
                )
        except IntegrityError:
            count_event("webhook_duplicate")
            return DUPLICATE
        _apply(event, generation_id, update)
    return event.outcome


def reprocess_webhook_event(event: WebhookEvent) -> str:
    """Applies a recorded delivery again (from the admin), e.g. after fixing a generation."""
    with transaction.atomic():
        if event.generation_id is None:
            return event.outcome
        _apply(event, event.generation_id, predictions.parse(event.payload))
    return event.outcome


def _apply(event: WebhookEvent, generation_id: int, update: PredictionUpdate) -> None:
    outcome = apply_prediction_update(generation_id, update)
    event.outcome = outcome
    # Linked only once it is known to exist (the foreign key is checked at commit).
    if outcome != UpdateOutcome.UNKNOWN_GENERATION:
        event.generation_id = generation_id
    event.save(update_fields=["outcome", "generation"])


def receive_stripe_event(event: stripe_events.ParsedEvent, payload: dict[str, Any]) -> str:
    """Records the event once under its id and applies it in the same transaction; a repeat is
    acknowledged as a duplicate without any effect."""
    with transaction.atomic():
        try:
            with transaction.atomic():
                record = StripeEvent.objects.create(
                    event_id=event.id,
                    type=event.type,
                    object_id=event.object_id,
                    payment_intent=event.payment_intent,
                    livemode=event.livemode,
                    created=None
                    if event.created is None
                    else datetime.fromtimestamp(event.created, tz=UTC),
                    payload=payload,
                )
        except IntegrityError:
            return DUPLICATE
        _apply_stripe(record, event)
    return record.outcome


def reprocess_stripe_event(record: StripeEvent) -> str:
    """Applies a recorded event again (from the admin); every handler is idempotent."""
    with transaction.atomic():
        _apply_stripe(record, stripe_events.parse(record.payload))
    return record.outcome


def _apply_stripe(record: StripeEvent, event: stripe_events.ParsedEvent) -> None:
    applied = stripe_events.apply(event)
    record.outcome, record.order = applied.outcome, applied.order
    record.save(update_fields=["outcome", "order"])
    if applied.granted_payment:
        _apply_waiting_events(applied.granted_payment)


def _apply_waiting_events(payment_intent: str) -> None:
    """Refunds and disputes that came before the payment they concern (an order's or a plan
    invoice's), applied in the order Stripe made them."""
    waiting = StripeEvent.objects.filter(
        payment_intent=payment_intent, outcome=OrderOutcome.UNKNOWN_PAYMENT
    ).order_by("created", "id")
    for record in waiting:
        _apply_stripe(record, stripe_events.parse(record.payload))
