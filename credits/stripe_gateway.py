"""The only module that calls Stripe, through the official client pointed at STRIPE_API_BASE
(Stripe itself, or the local simulator)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import stripe
from django.conf import settings

from wan_pwa.errors import DomainError


class PaymentsUnavailable(DomainError):
    code = "payments_unavailable"
    status = 503


@dataclass(frozen=True)
class CheckoutSession:
    """The fields of a Checkout Session we act on, from the API or from an event."""

    id: str
    url: str
    status: str
    payment_status: str
    payment_intent: str
    amount_total: int | None
    currency: str
    client_reference_id: str
    expires_at: int | None = None  # Unix time; set by the API, not always by events

    @property
    def is_open(self) -> bool:
        return self.status == "open"

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CheckoutSession:
        intent = data.get("payment_intent") or ""
        if isinstance(intent, dict):  # expanded
            intent = intent.get("id") or ""
        return cls(
            id=str(data["id"]),
            url=str(data.get("url") or ""),
            status=str(data.get("status") or ""),
            payment_status=str(data.get("payment_status") or ""),
            payment_intent=str(intent),
            amount_total=_int_or_none(data.get("amount_total")),
            currency=str(data.get("currency") or ""),
            client_reference_id=str(data.get("client_reference_id") or ""),
            expires_at=_int_or_none(data.get("expires_at")),
        )


def _int_or_none(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _client() -> stripe.StripeClient:
    if not settings.STRIPE_SECRET_KEY:
        raise PaymentsUnavailable("Payments are not set up on this site yet.")
    return stripe.StripeClient(
        settings.STRIPE_SECRET_KEY,
        base_addresses={"api": settings.STRIPE_API_BASE},
        # Without it the client tries once; its retries reuse our idempotency key.
        max_network_retries=2,
    )


def _unavailable(error: stripe.StripeError) -> PaymentsUnavailable:
    return PaymentsUnavailable(
        f"The payment provider could not be reached ({error.user_message or type(error).__name__})."
        " Nothing was charged; please try again in a minute."
    )


def create_checkout_session(
    *,
    order_id: int,
    idempotency_key: str,
    name: str,
    amount: int,
    currency: str,
    email: str,
    success_url: str,
    cancel_url: str,
) -> CheckoutSession:
    params: dict[str, Any] = {
        "mode": "payment",
        "line_items": [
            {
                "price_data": {
                    "currency": currency,
                    "unit_amount": amount,
                    "product_data": {"name": name},
                },
                "quantity": 1,
            }
        ],
        "client_reference_id": str(order_id),
        "metadata": {"order_id": str(order_id)},
        "payment_intent_data": {"metadata": {"order_id": str(order_id)}},
        "success_url": success_url,
        "cancel_url": cancel_url,
    }
    if email:
        params["customer_email"] = email
    return _create_checkout_session(params, idempotency_key)


def _create_checkout_session(params: dict[str, Any], idempotency_key: str) -> CheckoutSession:
    try:
        session = _client().v1.checkout.sessions.create(
            params=params,  # type: ignore[arg-type]
            options={"idempotency_key": idempotency_key},
        )
    except stripe.StripeError as error:
        raise _unavailable(error) from error
    return CheckoutSession.from_dict(session.to_dict())


def retrieve_checkout_session(session_id: str) -> CheckoutSession:
    try:
        session = _client().v1.checkout.sessions.retrieve(session_id)
    except stripe.StripeError as error:
        raise _unavailable(error) from error
    return CheckoutSession.from_dict(session.to_dict())


def expire_checkout_session(session_id: str) -> CheckoutSession:
    """Expires an open session so it can no longer be paid, and returns it. Stripe refuses a
    session that is not open any more (paid, paying, or expired already): that session is
    returned as it is, for the caller to act on its status."""
    client = _client()
    try:
        session = client.v1.checkout.sessions.expire(session_id)
    except stripe.InvalidRequestError:
        return retrieve_checkout_session(session_id)
    except stripe.StripeError as error:
        raise _unavailable(error) from error
    return CheckoutSession.from_dict(session.to_dict())


def retrieve_payment_intent(payment_intent_id: str) -> PaymentIntent:
    try:
        intent = _client().v1.payment_intents.retrieve(payment_intent_id)
    except stripe.StripeError as error:
        raise _unavailable(error) from error
    return PaymentIntent.from_dict(intent.to_dict())


def payment_intent_status(payment_intent_id: str) -> str:
    try:
        intent = _client().v1.payment_intents.retrieve(payment_intent_id)
    except stripe.StripeError as error:
        raise _unavailable(error) from error
    return str(intent.status)


def refund_payment(*, payment_intent: str, amount: int, idempotency_key: str) -> str:
    """Asks Stripe to refund `amount` of the payment; returns the refund id. The credits are
    taken back when Stripe's charge.refunded webhook arrives, like any other refund."""
    try:
        refund = _client().v1.refunds.create(
            params={"payment_intent": payment_intent, "amount": amount},
            options={"idempotency_key": idempotency_key},
        )
    except stripe.StripeError as error:
        raise _unavailable(error) from error
    return str(refund.id)


def create_customer(*, user_id: int, email: str, idempotency_key: str) -> str:
    """A new Customer for our user; returns its id (cus_...)."""
    params: dict[str, Any] = {"metadata": {"user_id": str(user_id)}}
    if email:
        params["email"] = email
    try:
        customer = _client().v1.customers.create(
            params=params,  # type: ignore[arg-type]
            options={"idempotency_key": idempotency_key},
        )
    except stripe.StripeError as error:
        raise _unavailable(error) from error
    return str(customer.id)


def create_price(
    *, plan_id: int, name: str, amount: int, currency: str, idempotency_key: str
) -> str:
    """A monthly recurring price for a plan; returns its id (price_...)."""
    try:
        price = _client().v1.prices.create(
            params={
                "unit_amount": amount,
                "currency": currency,
                "recurring": {"interval": "month"},
                "product_data": {"name": name},
                "nickname": name,
                "metadata": {"plan_id": str(plan_id)},
            },
            options={"idempotency_key": idempotency_key},
        )
    except stripe.StripeError as error:
        raise _unavailable(error) from error
    return str(price.id)


def create_subscription_checkout(
    *,
    customer: str,
    price: str,
    metadata: dict[str, str],
    idempotency_key: str,
    success_url: str,
    cancel_url: str,
) -> CheckoutSession:
    """A Checkout Session in subscription mode for the customer (whose card it saves)."""
    params = {
        "mode": "subscription",
        "customer": customer,
        "line_items": [{"price": price, "quantity": 1}],
        "subscription_data": {"metadata": metadata},
        "metadata": metadata,
        "success_url": success_url,
        "cancel_url": cancel_url,
    }
    return _create_checkout_session(params, idempotency_key)


def create_portal_session(*, customer: str, return_url: str) -> str:
    """A short-lived Customer Portal session; returns the URL to send the user to."""
    try:
        portal = _client().v1.billing_portal.sessions.create(
            params={"customer": customer, "return_url": return_url}
        )
    except stripe.StripeError as error:
        raise _unavailable(error) from error
    return str(portal.url)


def cancel_subscription(subscription_id: str) -> None:
    """Cancels the subscription at once; one that is canceled already is left as it is."""
    try:
        _client().v1.subscriptions.cancel(subscription_id)
    except stripe.InvalidRequestError:
        return
    except stripe.StripeError as error:
        raise _unavailable(error) from error


# Saved cards and off-session payments (auto-refill) ----------------------------------------


class CardNeedsCustomer(DomainError):
    """Stripe refused an off-session payment with the saved card: the bank wants the customer
    to authenticate (`authentication_required`) or declined it (`card_declined`)."""

    code = "card_needs_customer"
    status = 402

    def __init__(self, reason: str, message: str) -> None:
        self.reason = reason
        super().__init__(message)


@dataclass(frozen=True)
class PaymentIntent:
    """The fields of a PaymentIntent we act on, from the API or from an event."""

    id: str
    status: str
    amount: int | None
    currency: str
    order_id: str  # our metadata
    # Why the last attempt failed: Stripe's code (authentication_required, card_declined...)
    # and message; empty when it did not.
    error_code: str = ""
    error_message: str = ""

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PaymentIntent:
        metadata = data.get("metadata")
        order_id = metadata.get("order_id") if isinstance(metadata, dict) else None
        error = data.get("last_payment_error")
        error = error if isinstance(error, dict) else {}
        return cls(
            id=str(data["id"]),
            status=str(data.get("status") or ""),
            amount=_int_or_none(data.get("amount")),
            currency=str(data.get("currency") or ""),
            order_id=order_id if isinstance(order_id, str) else "",
            error_code=str(error.get("code") or ""),
            error_message=str(error.get("message") or ""),
        )


@dataclass(frozen=True)
class SavedCard:
    payment_method_id: str
    label: str  # "Visa ending 4242"


def create_setup_session(
    *, customer: str, currency: str, idempotency_key: str, success_url: str, cancel_url: str
) -> CheckoutSession:
    """A Checkout Session in setup mode: the customer saves a card for later off-session
    payments (Stripe attaches it to the Customer)."""
    params: dict[str, Any] = {
        "mode": "setup",
        "customer": customer,
        "currency": currency,
        "setup_intent_data": {"metadata": {"purpose": "auto_refill"}},
        "success_url": success_url,
        "cancel_url": cancel_url,
    }
    return _create_checkout_session(params, idempotency_key)


def saved_card(setup_intent_id: str) -> SavedCard:
    """The card a completed setup saved: its payment method, and how to name it."""
    client = _client()
    try:
        intent = client.v1.setup_intents.retrieve(setup_intent_id)
        method = client.v1.payment_methods.retrieve(str(intent.payment_method))
    except stripe.StripeError as error:
        raise _unavailable(error) from error
    card = method.to_dict().get("card") or {}
    brand = str(card.get("brand") or "card").title()
    return SavedCard(str(method.id), f"{brand} ending {card.get('last4') or '????'}")


def charge_saved_card(
    *,
    customer: str,
    payment_method: str,
    amount: int,
    currency: str,
    order_id: int,
    description: str,
    idempotency_key: str,
) -> PaymentIntent:
    """Charges the saved card with nobody present (off_session, confirmed at once). Raises
    CardNeedsCustomer when Stripe refuses it (402), PaymentsUnavailable when it cannot be
    asked; the key makes a repeat of the same refill charge once."""
    try:
        intent = _client().v1.payment_intents.create(
            params={
                "amount": amount,
                "currency": currency,
                "customer": customer,
                "payment_method": payment_method,
                "off_session": True,
                "confirm": True,
                "description": description,
                "metadata": {"order_id": str(order_id)},
            },
            options={"idempotency_key": idempotency_key},
        )
    except stripe.CardError as error:
        raise CardNeedsCustomer(
            str(error.code or "card_declined"), error.user_message or "The card was declined."
        ) from error
    except stripe.StripeError as error:
        raise _unavailable(error) from error
    return PaymentIntent.from_dict(intent.to_dict())


def checkout_origin() -> str:
    """Where checkout redirects the buyer: Stripe's hosted page, or the simulator's."""
    if settings.STRIPE_API_BASE == "https://api.stripe.com":
        return "https://checkout.stripe.com"
    parts = urlsplit(settings.STRIPE_API_BASE)
    return f"{parts.scheme}://{parts.netloc}"


def portal_origin() -> str:
    """Where the Customer Portal lives: Stripe's, or the simulator's."""
    if settings.STRIPE_API_BASE == "https://api.stripe.com":
        return "https://billing.stripe.com"
    return checkout_origin()
