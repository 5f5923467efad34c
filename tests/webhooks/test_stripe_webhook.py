"""POST /api/webhooks/stripe: unverified or malformed requests get a 4xx, are not logged and
change nothing; verified events are logged once under their id."""

from __future__ import annotations

import json
import time

import pytest

from credits.models import Order
from credits.selectors import balance_of
from tests.credits.stripe_support import (
    WEBHOOK_SECRET,
    WEBHOOK_URL,
    checkout,
    deliver,
    pay,
)
from webhooks.models import StripeEvent
from webhooks.stripe_signature import expected_signature

pytestmark = pytest.mark.django_db


def post(client, body: bytes, header: str | None):
    headers = {"Stripe-Signature": header} if header is not None else {}
    return client.post(WEBHOOK_URL, body, content_type="application/json", headers=headers)


def signed(body: bytes, timestamp: int | None = None) -> str:
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    return f"t={stamp},v1={expected_signature(WEBHOOK_SECRET, stamp, body)}"


@pytest.fixture
def paid_session(stripe_sim, user):
    order = checkout(user)
    pay(stripe_sim, order)
    return order, stripe_sim.take_events("checkout.session.completed")[0]


def test_an_unsigned_or_forged_completed_event_grants_nothing_and_is_not_logged(
    client, paid_session, user
):
    _order, event = paid_session
    body = json.dumps(event).encode()

    answers = [
        post(client, body, None),
        post(client, body, "t=1,v1=" + "0" * 64),
        post(client, body, signed(body, int(time.time()) - 3600)),  # a replay of an old one
        post(client, body + b" ", signed(body)),
    ]

    assert [a.status_code for a in answers] == [400, 400, 400, 400]
    assert all("error" in a.json() for a in answers)
    assert not StripeEvent.objects.exists()
    assert balance_of(user) == 100


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"\xff\xfe",
        b"[]",
        b'{"object": "event"}',
        b'{"object": "event", "id": "evt_1", "type": "x", "data": []}',
        b'{"object": "event", "id": 5, "type": "x", "data": {"object": {}}}',
        b'{"object": "event", "id": "evt_1", "type": "charge.refunded",'
        b' "data": {"object": {"amount_refunded": "10"}}}',
        b'{"object": "event", "id": "evt_1", "type": "checkout.session.completed",'
        b' "data": {"object": {"id": "cs_1", "payment_status": 1}}}',
        b'{"a": NaN}',
        b"[" * 100_000,
    ],
)
def test_signed_but_malformed_bodies_get_a_400_and_are_not_logged(client, settings, body):
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    response = post(client, body, signed(body))

    assert response.status_code == 400
    assert not StripeEvent.objects.exists()


def test_without_a_configured_secret_the_endpoint_asks_stripe_to_retry(client, settings):
    settings.STRIPE_WEBHOOK_SECRET = ""
    body = b"{}"
    assert post(client, body, signed(body)).status_code == 503


def test_only_post_is_accepted(client):
    assert client.get(WEBHOOK_URL).status_code == 405


def test_an_event_is_logged_once_with_its_order_and_outcome(client, paid_session, user):
    order, event = paid_session

    first = deliver(event)
    again = deliver(event)

    assert (first.json(), again.json()) == ({"outcome": "granted"}, {"outcome": "duplicate"})
    logged = StripeEvent.objects.get()
    assert (logged.event_id, logged.type, logged.order, logged.outcome) == (
        event["id"],
        "checkout.session.completed",
        order,
        "granted",
    )


def test_each_event_of_an_order_is_logged_with_it_and_a_stranger_session_with_none(
    client, stripe_sim, paid_session, user
):
    order, completed = paid_session
    deliver(completed)
    charge = stripe_sim.charge_of(order.checkout_session_id)
    stripe_sim.refund(charge, 100)
    stripe_sim.dispute(charge)
    expired = checkout(user, 500)
    stripe_sim.batch(stripe_sim.state.expire, expired.checkout_session_id)
    for event in stripe_sim.take_events():
        deliver(event)
    session = completed["data"]["object"]  # a session we never opened, for no order of ours
    stranger = {**session, "id": "cs_stranger", "payment_intent": "pi_stranger"}
    deliver({**completed, "id": "evt_stranger", "data": {"object": {**stranger}}})

    logged = {
        (event.type, event.outcome): event.order for event in StripeEvent.objects.order_by("id")
    }
    assert logged == {
        ("checkout.session.completed", "granted"): order,
        ("charge.succeeded", "ignored"): order,  # its payment intent is the order's
        ("payment_intent.succeeded", "ignored"): None,  # the intent itself names none
        ("charge.refunded", "taken_back"): order,
        ("refund.created", "ignored"): order,
        ("charge.dispute.created", "taken_back"): order,
        ("charge.dispute.funds_withdrawn", "no_change"): order,
        ("checkout.session.expired", "closed"): expired,
        ("checkout.session.completed", "mismatch"): None,
    }


def test_an_unhandled_event_type_is_acknowledged_and_ignored(client, stripe_sim):
    event = {
        "id": "evt_other",
        "object": "event",
        "type": "customer.created",
        "created": 1,
        "data": {"object": {"id": "cus_1"}},
    }
    assert deliver(event).json() == {"outcome": "ignored"}


def test_a_completed_event_for_an_order_we_do_not_have_grants_nothing(client, stripe_sim):
    event = {
        "id": "evt_x",
        "object": "event",
        "type": "checkout.session.completed",
        "data": {
            "object": {
                "id": "cs_x",
                "payment_status": "paid",
                "client_reference_id": "987654",
                "amount_total": 500,
                "currency": "usd",
            }
        },
    }
    assert deliver(event).json() == {"outcome": "unknown_order"}
    assert not Order.objects.exists()
