"""The local Stripe's saved cards as the official client meets them: Checkout in setup mode
attaches a card to the Customer, and off-session PaymentIntents answer as Stripe does for its
test cards (succeeded; 402 authentication_required or card_declined with the PaymentIntent),
each with its event, once per idempotency key."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import stripe

from credits.simulator import StripeSimulator
from credits.simulator.state import StripeError as SimulatedError
from tests.credits.refill_support import AUTH_ALWAYS, DECLINED_LATER, NEVER_SAVES
from tests.credits.stripe_support import PAID, WEBHOOK_SECRET


@pytest.fixture
def sim() -> Iterator[StripeSimulator]:
    simulator = StripeSimulator(secret=WEBHOOK_SECRET).start()
    yield simulator
    simulator.stop()


def client(sim: StripeSimulator) -> stripe.StripeClient:
    return stripe.StripeClient("sk_test_x", base_addresses={"api": sim.base_url})


def saved_card(sim: StripeSimulator, number: str) -> tuple[str, str]:
    """A customer, and the payment method a completed setup session attached to it."""
    api = client(sim)
    customer = api.v1.customers.create(params={"email": "a@example.com"}).id
    session = api.v1.checkout.sessions.create(
        params={
            "mode": "setup",
            "customer": customer,
            "currency": "usd",
            "success_url": "http://shop.test/ok",
        }
    )
    assert (session.status, session.payment_status) == ("open", "no_payment_required")
    sim.pay(session.id, number)
    session = api.v1.checkout.sessions.retrieve(session.id)
    intent = api.v1.setup_intents.retrieve(str(session.setup_intent))
    assert (session.status, intent.status) == ("complete", "succeeded")
    return customer, str(intent.payment_method)


def charge(
    sim: StripeSimulator, customer: str, method: str, key: str = "refill-1", confirm: bool = True
) -> stripe.PaymentIntent:
    return client(sim).v1.payment_intents.create(
        params={
            "amount": 500,
            "currency": "usd",
            "customer": customer,
            "payment_method": method,
            "off_session": True,
            "confirm": confirm,
            "metadata": {"order_id": "9"},
        },
        options={"idempotency_key": key},
    )


def test_a_setup_session_attaches_the_card_to_the_customer(sim):
    customer, method = saved_card(sim, PAID)

    saved = client(sim).v1.payment_methods.retrieve(method)
    assert saved.card is not None
    assert (saved.customer, saved.card.last4, saved.card.brand) == (customer, "4242", "visa")
    assert [e["type"] for e in sim.take_events()] == [
        "customer.created",
        "payment_method.attached",
        "setup_intent.succeeded",
        "checkout.session.completed",
    ]


def test_a_setup_session_needs_a_customer_and_refuses_a_card_declined_outright(sim):
    with pytest.raises(stripe.InvalidRequestError, match="customer"):
        client(sim).v1.checkout.sessions.create(
            params={"mode": "setup", "currency": "usd", "success_url": "http://shop.test/ok"}
        )
    customer = client(sim).v1.customers.create(params={}).id
    session = client(sim).v1.checkout.sessions.create(
        params={
            "mode": "setup",
            "customer": customer,
            "currency": "usd",
            "success_url": "http://shop.test/ok",
        }
    )
    with pytest.raises(SimulatedError, match="declined"):
        sim.pay(session.id, NEVER_SAVES)
    assert client(sim).v1.checkout.sessions.retrieve(session.id).status == "open"


def test_an_off_session_payment_with_a_good_card_succeeds_once_per_key(sim):
    customer, method = saved_card(sim, PAID)
    sim.take_events()

    first = charge(sim, customer, method)
    again = charge(sim, customer, method)

    assert first.id == again.id and first.status == "succeeded"
    assert client(sim).v1.charges.retrieve(str(first.latest_charge)).amount == 500
    assert [e["type"] for e in sim.take_events()] == [
        "payment_intent.succeeded",
        "charge.succeeded",
    ]


def test_a_card_that_always_needs_its_owner_fails_off_session_and_asks_on_session(sim):
    customer, method = saved_card(sim, AUTH_ALWAYS)
    sim.take_events()

    with pytest.raises(stripe.CardError) as refused:
        charge(sim, customer, method)

    error = refused.value
    assert error.http_status == 402 and error.code == "authentication_required"
    assert error.error is not None and error.error.payment_intent is not None
    assert error.error.payment_intent.status == "requires_payment_method"
    (event,) = sim.take_events()
    assert event["type"] == "payment_intent.payment_failed"
    assert event["data"]["object"]["last_payment_error"]["code"] == "authentication_required"
    # The same key replays the refusal; nothing new happens.
    with pytest.raises(stripe.CardError):
        charge(sim, customer, method)
    assert sim.take_events() == []
    on_session = client(sim).v1.payment_intents.create(
        params={
            "amount": 500,
            "currency": "usd",
            "customer": customer,
            "payment_method": method,
            "confirm": True,
        }
    )
    assert on_session.status == "requires_action"


def test_a_card_declined_when_charged_later_fails_with_card_declined(sim):
    customer, method = saved_card(sim, DECLINED_LATER)

    with pytest.raises(stripe.CardError) as refused:
        charge(sim, customer, method)

    assert refused.value.code == "card_declined"
    assert refused.value.error is not None
    assert refused.value.error.decline_code == "generic_decline"


def test_another_customers_card_and_off_session_without_confirm_are_refused(sim):
    customer, method = saved_card(sim, PAID)
    stranger = client(sim).v1.customers.create(params={}).id
    with pytest.raises(stripe.InvalidRequestError, match="another Customer"):
        charge(sim, stranger, method, key="k2")
    with pytest.raises(stripe.InvalidRequestError, match="confirm=true"):
        charge(sim, customer, method, key="k3", confirm=False)
