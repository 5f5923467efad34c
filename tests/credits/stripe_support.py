"""The Stripe simulator for tests, in manual delivery mode: a test pays on it, then delivers the
signed events to our endpoint through the test client, in any order, as often as it likes."""

from __future__ import annotations

import json
from typing import Any

from django.test import Client

from credits.actions import start_checkout
from credits.models import CreditPack, Order
from credits.simulator import StripeSimulator
from credits.simulator.delivery import signature_header
from credits.simulator.state import StripeError
from credits.stripe_gateway import CheckoutSession

WEBHOOK_SECRET = "whsec_test_0123456789abcdef"
PAID = "4242 4242 4242 4242"
DECLINED = "4000 0000 0000 0002"
NO_FUNDS = "4000 0000 0000 9995"
PAYS_LATER = "4000 0000 0000 1111"
WEBHOOK_URL = "/api/webhooks/stripe"


def deliver(event: dict[str, Any], client: Client | None = None) -> Any:
    """POSTs one event, signed, to our endpoint; returns the response. Pass a client to
    deliver many: each new one loads the middleware again."""
    body, header = sign(event)
    return (client or Client()).post(
        WEBHOOK_URL, body, content_type="application/json", headers={"Stripe-Signature": header}
    )


def sign(event: dict[str, Any]) -> tuple[bytes, str]:
    body = json.dumps(event).encode()
    return body, signature_header(WEBHOOK_SECRET, body)


def deliver_all(sim: StripeSimulator, *types: str) -> list[str]:
    """Delivers the waiting events (of these types) in order; returns their outcomes."""
    outcomes = []
    for event in sim.take_events(*types):
        response = deliver(event)
        assert response.status_code == 200, response.content
        outcomes.append(response.json()["outcome"])
    return outcomes


PRICES = {100: 500, 500: 2000, 2000: 7000}  # the packs the data migration creates


def pack(credits: int = 100) -> CreditPack:
    """One of the default packs (made again when a transactional test flushed them)."""
    found, _ = CreditPack.objects.get_or_create(
        credits=credits,
        currency="usd",
        defaults={"name": f"{credits} pack", "price": PRICES[credits]},
    )
    return found


def checkout(user, credits: int = 100) -> Order:
    """The user's order for the pack (their open one, if they have it)."""
    return start_checkout(
        user,
        pack(credits).pk,
        success_url="http://testserver/billing/{order_id}/success?session_id={CHECKOUT_SESSION_ID}",
        cancel_url="http://testserver/billing/{order_id}/cancel",
    ).order


def pay(sim: StripeSimulator, order: Order, card: str = PAID) -> str | None:
    """Pays the order's session on the simulator's page; the decline code, if declined."""
    assert order.checkout_session_id is not None, "the order was never sent to checkout"
    try:
        sim.pay(order.checkout_session_id, card)
    except StripeError as error:
        return error.body["error"].get("decline_code")
    return None


def buy(sim: StripeSimulator, user, credits: int = 100) -> Order:
    """A pack paid and its events delivered: the order is paid and credited."""
    order = checkout(user, credits)
    pay(sim, order)
    deliver_all(sim)
    order.refresh_from_db()
    return order


def paid_session(user) -> CheckoutSession:
    """A paid Checkout Session, as Stripe's webhook reports it, of a new 50-credit order."""
    pack = CreditPack.objects.create(name="Starter", credits=50, price=500, currency="usd")
    order = Order.objects.create(
        user=user, pack=pack, credits=50, amount=500, currency="usd", checkout_session_id="cs_1"
    )
    return CheckoutSession(
        id="cs_1",
        url="",
        status="complete",
        payment_status="paid",
        payment_intent="pi_1",
        amount_total=500,
        currency="usd",
        client_reference_id=str(order.pk),
    )
