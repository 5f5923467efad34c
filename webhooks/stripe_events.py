"""What each Stripe event means for an order: the event's object read into the few fields the
credit actions take. Only fields Stripe always sends are read, and their types are checked, so a
verified but surprising event is refused (400) rather than half applied."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from credits import auto_refill, stripe_billing, subscriptions
from credits.actions import (
    OrderOutcome,
    OrderResult,
    close_order,
    fulfil_checkout,
    fulfil_refill,
    record_dispute,
    record_refund,
)
from credits.models import Order, OrderStatus
from credits.stripe_gateway import CheckoutSession, PaymentIntent
from credits.subscriptions import PlanResult

IGNORED = "ignored"

SESSION_EVENTS = frozenset(
    {
        "checkout.session.completed",
        "checkout.session.async_payment_succeeded",
        "checkout.session.async_payment_failed",
        "checkout.session.expired",
    }
)
INVOICE_EVENTS = frozenset({"invoice.paid", "invoice.payment_failed"})
SUBSCRIPTION_EVENTS = frozenset(
    {
        "customer.subscription.created",
        "customer.subscription.updated",
        "customer.subscription.deleted",
    }
)
DISPUTE_EVENTS = frozenset(
    {
        "charge.dispute.created",
        "charge.dispute.updated",
        "charge.dispute.closed",
        "charge.dispute.funds_withdrawn",
        "charge.dispute.funds_reinstated",
    }
)


class MalformedEvent(ValueError):
    """A verified event without the fields its type always has."""


@dataclass(frozen=True)
class ParsedEvent:
    id: str
    type: str
    created: int | None
    livemode: bool
    object: dict[str, Any]

    @property
    def object_id(self) -> str:
        return _text(self.object, "id", required=False)

    @property
    def payment_intent(self) -> str:
        return _text(self.object, "payment_intent", required=False)


def _text(data: dict[str, Any], key: str, *, required: bool = True) -> str:
    try:
        return stripe_billing.text(data, key, required=required)
    except ValueError as error:
        raise MalformedEvent(str(error)) from None


def _whole(data: dict[str, Any], key: str) -> int:
    value = data.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < 2**31:
        raise MalformedEvent(f"{key} must be a whole number.")
    return value


def parse(body: Any) -> ParsedEvent:
    if not isinstance(body, dict) or body.get("object") != "event":
        raise MalformedEvent("The body is not a Stripe event.")
    data = body.get("data")
    if not isinstance(data, dict) or not isinstance(data.get("object"), dict):
        raise MalformedEvent("The event has no data.object.")
    created = body.get("created")
    event = ParsedEvent(
        id=_text(body, "id"),
        type=_text(body, "type"),
        created=created if isinstance(created, int) and 0 <= created < 2**40 else None,
        livemode=body.get("livemode") is True,
        object=data["object"],
    )
    # The fields each handled type needs, checked before anything is written.
    if event.type in SESSION_EVENTS:
        _session(event)
    elif event.type == "charge.refunded":
        _whole(event.object, "amount_refunded")
    elif event.type in DISPUTE_EVENTS:
        _text(event.object, "id"), _text(event.object, "status")
    elif event.type in INVOICE_EVENTS:
        _invoice(event)
    elif event.type in SUBSCRIPTION_EVENTS:
        _subscription(event)
    elif event.type == "invoice_payment.paid":
        _text(event.object, "invoice")
    elif event.type in PAYMENT_EVENTS:
        _payment(event)
    return event


PAYMENT_EVENTS = frozenset({"payment_intent.succeeded", "payment_intent.payment_failed"})


def _payment(event: ParsedEvent) -> PaymentIntent:
    _text(event.object, "id"), _text(event.object, "status")
    _whole(event.object, "amount"), _text(event.object, "currency")
    return PaymentIntent.from_dict(event.object)


def _invoice(event: ParsedEvent) -> stripe_billing.Invoice:
    try:
        return stripe_billing.Invoice.from_dict(event.object)
    except ValueError as error:
        raise MalformedEvent(str(error)) from None


def _subscription(event: ParsedEvent) -> stripe_billing.Subscription:
    try:
        return stripe_billing.Subscription.from_dict(event.object)
    except ValueError as error:
        raise MalformedEvent(str(error)) from None


def _session(event: ParsedEvent) -> CheckoutSession:
    _text(event.object, "id")
    _text(event.object, "payment_status")
    if event.object.get("client_reference_id") is not None:
        _text(event.object, "client_reference_id")
    return CheckoutSession.from_dict(event.object)


def _completed(event: ParsedEvent) -> OrderResult | PlanResult:
    if event.object.get("mode") == "subscription":  # the plan comes with its invoice.paid
        return subscriptions.close_plan_checkout(_session(event).id)
    if event.object.get("mode") == "setup":
        return _card_saved(event)
    return fulfil_checkout(_session(event))


def _card_saved(event: ParsedEvent) -> OrderResult:
    """A Checkout in setup mode saved a card for auto-refill."""
    saved = auto_refill.save_card(
        _text(event.object, "customer"), _text(event.object, "setup_intent")
    )
    return OrderResult(OrderOutcome.CARD_SAVED if saved else OrderOutcome.NO_CHANGE)


def _payment_succeeded(event: ParsedEvent) -> OrderResult:
    return fulfil_refill(_payment(event))


def _payment_failed(event: ParsedEvent) -> OrderResult:
    """A refill's off-session payment refused (a pack's Checkout declines are shown on its
    page and change no order)."""
    order = _refill_order(event)
    if order is None:
        return OrderResult(OrderOutcome.UNKNOWN_ORDER)
    refused = auto_refill.refill_refused_payment(order.pk, _payment(event))
    return OrderResult(OrderOutcome.CLOSED if refused else OrderOutcome.NO_CHANGE, order)


def _refill_order(event: ParsedEvent) -> Order | None:
    """The auto-refill order a payment is for (our metadata), None for any other payment."""
    order_id = _payment(event).order_id
    if not (order_id.isascii() and order_id.isdigit() and len(order_id) < 19):
        return None
    return Order.objects.filter(pk=int(order_id), refill_key__isnull=False).first()


def _async_failed(event: ParsedEvent) -> OrderResult:
    return close_order(_session(event), OrderStatus.FAILED)


def _expired(event: ParsedEvent) -> OrderResult | PlanResult:
    if event.object.get("mode") == "subscription":
        return subscriptions.close_plan_checkout(_session(event).id)
    return close_order(_session(event), OrderStatus.EXPIRED)


def _refunded(event: ParsedEvent) -> OrderResult | PlanResult:
    amount = _whole(event.object, "amount_refunded")
    result = record_refund(event.payment_intent, amount)
    if result.outcome != OrderOutcome.UNKNOWN_PAYMENT:
        return result
    return subscriptions.record_plan_refund(event.payment_intent, amount) or result


def _dispute(event: ParsedEvent) -> OrderResult | PlanResult:
    dispute, status = _text(event.object, "id"), _text(event.object, "status")
    result = record_dispute(event.payment_intent, dispute, status)
    if result.outcome != OrderOutcome.UNKNOWN_PAYMENT:
        return result
    return subscriptions.record_plan_dispute(event.payment_intent, dispute, status) or result


def _event_at(event: ParsedEvent) -> int:
    return event.created or 0


def _invoice_paid(event: ParsedEvent) -> PlanResult:
    return subscriptions.record_invoice_paid(_invoice(event), event_at=_event_at(event))


def _invoice_failed(event: ParsedEvent) -> PlanResult:
    return subscriptions.record_invoice_failed(_invoice(event), event_at=_event_at(event))


def _invoice_payment(event: ParsedEvent) -> PlanResult:
    payment = event.object.get("payment")
    intent = _text(payment, "payment_intent", required=False) if isinstance(payment, dict) else ""
    return subscriptions.record_invoice_payment(_text(event.object, "invoice"), intent)


def _subscription_changed(event: ParsedEvent) -> PlanResult:
    return subscriptions.record_subscription(
        _subscription(event),
        event_at=_event_at(event),
        deleted=event.type == "customer.subscription.deleted",
    )


HANDLERS: dict[str, Callable[[ParsedEvent], OrderResult | PlanResult]] = {
    "checkout.session.completed": _completed,
    "checkout.session.async_payment_succeeded": _completed,
    "checkout.session.async_payment_failed": _async_failed,
    "checkout.session.expired": _expired,
    "charge.refunded": _refunded,
    "payment_intent.succeeded": _payment_succeeded,
    "payment_intent.payment_failed": _payment_failed,
    **dict.fromkeys(DISPUTE_EVENTS, _dispute),
    "invoice.paid": _invoice_paid,
    "invoice_payment.paid": _invoice_payment,
    "invoice.payment_failed": _invoice_failed,
    **dict.fromkeys(SUBSCRIPTION_EVENTS, _subscription_changed),
}


@dataclass(frozen=True)
class Applied:
    outcome: str
    order: Order | None  # the order it concerns, kept in the log beside the order's events
    granted_payment: str = ""  # a payment just credited, whose waiting events now apply


def apply(event: ParsedEvent) -> Applied:
    """What the event did: the order its action found, or for an event type we ignore, the
    order its payment paid."""
    handler = HANDLERS.get(event.type)
    if event.type in PAYMENT_EVENTS and _refill_order(event) is None:
        handler = None  # a pack's payment: its Checkout Session's events act on its order
    if handler is None:
        paid = Order.objects.filter(payment_intent_id=event.payment_intent)
        return Applied(IGNORED, paid.first() if event.payment_intent else None)
    result = handler(event)
    if isinstance(result, PlanResult):
        invoice = result.plan_invoice
        linked = {subscriptions.PlanOutcome.GRANTED, subscriptions.PlanOutcome.PAYMENT_LINKED}
        if result.outcome in linked and invoice is not None and invoice.payment_intent_id:
            return Applied(result.outcome, None, invoice.payment_intent_id)
        return Applied(result.outcome, None)
    if result.outcome == OrderOutcome.GRANTED and result.order is not None:
        return Applied(result.outcome, result.order, result.order.payment_intent_id)
    return Applied(result.outcome, result.order)


def waits_for_order(outcome: str) -> bool:
    """A refund or dispute of a payment whose order is not paid here yet (events come in any
    order): kept, and applied when the order is paid."""
    return outcome == OrderOutcome.UNKNOWN_PAYMENT
