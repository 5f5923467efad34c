"""Stripe's subscriptions and invoices read into the few fields the plan actions take, in the
shapes of the pinned API version (periods on subscription items; an invoice's subscription in
`parent.subscription_details`, its payments in `payments`). A missing or mistyped field raises
ValueError, so a surprising event is refused rather than half applied."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


def text(data: Any, key: str, *, required: bool = True) -> str:
    """The string (or an expanded object's id) at `key`; "" if absent and not required."""
    value = data.get(key) if isinstance(data, dict) else None
    if isinstance(value, dict):  # an expanded object
        value = value.get("id")
    if value is None and not required:
        return ""
    if not isinstance(value, str) or not value or len(value) > 255:
        raise ValueError(f"{key} must be a non-empty string.")
    return value


def _int(data: Any, key: str) -> int:
    value = data.get(key) if isinstance(data, dict) else None
    if not isinstance(value, int) or isinstance(value, bool) or not -(2**40) < value < 2**40:
        raise ValueError(f"{key} must be a whole number.")
    return value


def _list(data: Any, key: str) -> list[Any]:
    value = data.get(key) if isinstance(data, dict) else None
    items = value.get("data") if isinstance(value, dict) else None
    if not isinstance(items, list):
        raise ValueError(f"{key} must be a list.")
    return items


@dataclass(frozen=True)
class InvoiceLine:
    price: str
    amount: int  # signed: an upgrade's unused time on the old plan is negative
    period_start: int
    period_end: int


@dataclass(frozen=True)
class Invoice:
    id: str
    customer: str
    subscription: str  # empty for an invoice outside subscriptions
    billing_reason: str
    amount_paid: int
    currency: str
    payment_intent: str  # empty when Stripe did not include the payments
    lines: tuple[InvoiceLine, ...]

    @property
    def period_end(self) -> int:
        return max(line.period_end for line in self.lines)

    @property
    def period_start(self) -> int:
        return min(line.period_start for line in self.lines)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Invoice:
        parent = data.get("parent")
        details = parent.get("subscription_details") if isinstance(parent, dict) else None
        lines = tuple(_line(line) for line in _list(data, "lines"))
        if not lines:
            raise ValueError("An invoice has lines.")
        intents = (
            [
                text(payment.get("payment"), "payment_intent", required=False)
                for payment in (data["payments"].get("data") or [])
                if isinstance(payment, dict) and payment.get("status") == "paid"
            ]
            if isinstance(data.get("payments"), dict)
            else []
        )
        return cls(
            id=text(data, "id"),
            customer=text(data, "customer"),
            subscription=text(details, "subscription", required=False),
            billing_reason=text(data, "billing_reason", required=False),
            amount_paid=_int(data, "amount_paid"),
            currency=text(data, "currency"),
            payment_intent=next((intent for intent in intents if intent), ""),
            lines=lines,
        )


def _line(data: Any) -> InvoiceLine:
    pricing = data.get("pricing") if isinstance(data, dict) else None
    details = pricing.get("price_details") if isinstance(pricing, dict) else None
    period = data.get("period") if isinstance(data, dict) else None
    return InvoiceLine(
        price=text(details, "price"),
        amount=_int(data, "amount"),
        period_start=_int(period, "start"),
        period_end=_int(period, "end"),
    )


@dataclass(frozen=True)
class Subscription:
    id: str
    customer: str
    status: str
    price: str
    period_start: int
    period_end: int
    cancel_at_period_end: bool

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Subscription:
        items = _list(data, "items")
        if not items or not isinstance(items[0], dict):
            raise ValueError("A subscription has items.")
        item = items[0]
        return cls(
            id=text(data, "id"),
            customer=text(data, "customer"),
            status=text(data, "status"),
            price=text(item, "price"),
            period_start=_int(item, "current_period_start"),
            period_end=_int(item, "current_period_end"),
            cancel_at_period_end=data.get("cancel_at_period_end") is True,
        )
