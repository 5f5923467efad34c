"""Writes of the webhooks app: recording a delivery and applying it, in one transaction."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.db import IntegrityError, transaction

from credits.actions import OrderOutcome
from credits.models import Order
from generations.actions import UpdateOutcome, apply_prediction_update
from generations.replicate import predictions
from wan_pwa.analytics.counters import count_event
from webhooks import stripe_events
from webhooks.models import StripeEvent, WebhookEvent

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
            count_event("webhook_duplicate")
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
    record.outcome = stripe_events.apply(event)
    record.order_id = _order_of(record)
    record.save(update_fields=["outcome", "order"])
    if record.outcome == OrderOutcome.GRANTED and record.order_id is not None:
        _apply_waiting_events(record.order_id)


def _order_of(record: StripeEvent) -> int | None:
    if record.payment_intent:
        found = Order.objects.filter(payment_intent_id=record.payment_intent).first()
        if found:
            return found.pk
    if record.object_id.startswith("cs_"):
        return (
            Order.objects.filter(checkout_session_id=record.object_id)
            .values_list("pk", flat=True)
            .first()
        )
    return None


def _apply_waiting_events(order_id: int) -> None:
    """Refunds and disputes that came before the payment they concern, applied in the order
    Stripe made them."""
    intent = Order.objects.values_list("payment_intent_id", flat=True).get(pk=order_id)
    waiting = StripeEvent.objects.filter(
        payment_intent=intent, outcome=OrderOutcome.UNKNOWN_PAYMENT
    ).order_by("created", "id")
    for record in waiting:
        _apply_stripe(record, stripe_events.parse(record.payload))
