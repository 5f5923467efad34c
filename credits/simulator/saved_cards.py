"""Saved cards and off-session payments on the simulator: Checkout in setup mode (or a payment
with `payment_intent_data[setup_future_usage]`) attaches a PaymentMethod to the Customer, and
`POST /v1/payment_intents` with `off_session=true&confirm=true` charges it, answering as Stripe
does for the test card behind it: succeeded, or 402 `card_error` with `authentication_required`
or `card_declined` and the PaymentIntent (status `requires_payment_method`), each with its
event. Every function runs under the state's lock, inside the server's batch."""

from __future__ import annotations

import time
from typing import Any

from .state import (
    Card,
    StripeError,
    StripeState,
    _positive_int,
    _required,
    new_id,
    test_card,
)

OFF_SESSION_VALUES = ("true", "one_off", "recurring")
NEEDS_AUTHENTICATION = (
    "Your card was declined. This transaction requires authentication."  # Stripe's wording
)


def create_setup_session(state: StripeState, params: dict[str, Any]) -> dict[str, Any]:
    customer = _required(params, "customer")
    state.get(customer, "customer")
    currency = params.get("currency")
    if not currency and not params.get("payment_method_types"):
        raise StripeError(
            400,
            "currency is required in setup mode unless payment_method_types is set.",
            code="parameter_missing",
            param="currency",
        )
    setup_data = params.get("setup_intent_data") or {}
    session = state.new_session(params, "setup") | {
        "payment_status": "no_payment_required",
        "amount_subtotal": None,
        "amount_total": None,
        "currency": str(currency or "").lower() or None,
        "customer": customer,
        "setup_intent": None,
        "customer_email": None,
        "_line_items": [],
        "_setup_metadata": setup_data.get("metadata") if isinstance(setup_data, dict) else {},
    }
    state.objects[session["id"]] = session
    return state.view(session)


def attach_card(state: StripeState, customer: str, number: str, card: Card) -> dict[str, Any]:
    """A PaymentMethod for the card, attached to the Customer (payment_method.attached)."""
    digits = "".join(ch for ch in number if ch.isdigit())
    method: dict[str, Any] = {
        "id": new_id("pm"),
        "object": "payment_method",
        "type": "card",
        "card": {"brand": "visa", "last4": digits[-4:], "exp_month": 12, "exp_year": 2034},
        "customer": customer,
        "created": int(time.time()),
        "livemode": False,
        "_card": card,
    }
    state.objects[method["id"]] = method
    state._event("payment_method.attached", method)
    return method


def complete_setup(state: StripeState, session: dict[str, Any], number: str, email: str) -> None:
    """The setup page's Save button: a card declined outright is refused and the session stays
    open; any other is attached through a succeeded SetupIntent, and the session completes."""
    card = test_card(number)
    if not card.saves:
        raise card.declined()
    method = attach_card(state, session["customer"], number, card)
    intent: dict[str, Any] = {
        "id": new_id("seti"),
        "object": "setup_intent",
        "customer": session["customer"],
        "payment_method": method["id"],
        "status": "succeeded",
        "usage": "off_session",
        "client_secret": f"seti_secret_{new_id('x')}",
        "last_setup_error": None,
        "metadata": session["_setup_metadata"],
        "created": int(time.time()),
        "livemode": False,
    }
    state.objects[intent["id"]] = intent
    session.update(
        status="complete",
        url=None,
        setup_intent=intent["id"],
        customer_details={"email": email or None},
    )
    state._event("setup_intent.succeeded", intent)
    state._event("checkout.session.completed", session)


def create_payment_intent(state: StripeState, params: dict[str, Any]) -> dict[str, Any]:
    amount = _positive_int(params, "amount")
    currency = _required(params, "currency").lower()
    customer = params.get("customer") or None
    if customer:
        state.get(customer, "customer")
    confirm = params.get("confirm") == "true"
    off_session = params.get("off_session") in OFF_SESSION_VALUES
    if params.get("off_session") and not confirm:
        raise StripeError(
            400, "off_session can only be used with confirm=true.", param="off_session"
        )
    method = None
    if params.get("payment_method"):
        method = state.get(params["payment_method"], "payment_method")
        if method["customer"] and method["customer"] != customer:
            raise StripeError(
                400,
                "The provided PaymentMethod is attached to another Customer: pass that customer.",
                param="payment_method",
            )
    if confirm and method is None:
        raise StripeError(
            400,
            "A PaymentMethod is required to confirm.",
            code="parameter_missing",
            param="payment_method",
        )
    metadata = params.get("metadata") or {}
    intent: dict[str, Any] = {
        "id": new_id("pi"),
        "object": "payment_intent",
        "amount": amount,
        "currency": currency,
        "customer": customer,
        "payment_method": method["id"] if method else None,
        "description": params.get("description"),
        "status": "requires_confirmation" if method else "requires_payment_method",
        "latest_charge": None,
        "last_payment_error": None,
        "next_action": None,
        "metadata": metadata if isinstance(metadata, dict) else {},
        "created": int(time.time()),
        "livemode": False,
    }
    state.objects[intent["id"]] = intent
    if not confirm or method is None:
        return state.view(intent)
    card: Card = method["_card"]
    if card.later == "paid":
        state.succeed_intent(intent)
        return state.view(intent)
    if card.later == "authentication_required" and not off_session:
        intent.update(status="requires_action", next_action={"type": "use_stripe_sdk"})
        return state.view(intent)
    code, decline_code, message = (
        ("authentication_required", "authentication_required", NEEDS_AUTHENTICATION)
        if card.later == "authentication_required"
        else ("card_declined", card.decline_code, card.message)
    )
    intent.update(
        status="requires_payment_method",
        last_payment_error={
            "type": "card_error",
            "code": code,
            "decline_code": decline_code,
            "message": message,
            "payment_method": state.view(method),
        },
    )
    state._event("payment_intent.payment_failed", intent)
    raise StripeError(
        402,
        message,
        type="card_error",
        code=code,
        decline_code=decline_code,
        payment_intent=state.view(intent),
    )


def payment_methods_of(state: StripeState, customer: str) -> dict[str, Any]:
    state.get(customer, "customer")
    methods = [
        state.view(obj)
        for obj in state.objects.values()
        if obj["object"] == "payment_method" and obj["customer"] == customer
    ]
    return {
        "object": "list",
        "data": methods,
        "has_more": False,
        "url": f"/v1/customers/{customer}/payment_methods",
    }
