"""The simulator's subscriptions as the official client reads and changes them: prices, a
subscription-mode session paid on its page, the subscription with its period on the item, the
invoice linked through `parent` with its payment, updates and cancellation."""

from __future__ import annotations

import pytest
import stripe

from credits.simulator import StripeSimulator
from tests.credits.stripe_support import PAID

pytestmark = pytest.mark.django_db


def test_a_subscription_reads_and_changes_in_the_sdks_shapes(stripe_sim: StripeSimulator):
    client = stripe.StripeClient("sk_test_x", base_addresses={"api": stripe_sim.base_url})
    customer = client.v1.customers.create(params={"email": "s@example.com"})
    price = client.v1.prices.create(
        params={
            "unit_amount": 800,
            "currency": "usd",
            "recurring": {"interval": "month"},
            "product_data": {"name": "Starter"},
        }
    )
    session = client.v1.checkout.sessions.create(
        params={
            "mode": "subscription",
            "customer": customer.id,
            "line_items": [{"price": price.id, "quantity": 1}],
            "subscription_data": {"metadata": {"plan_id": "1"}},
            "success_url": "http://shop.test/ok",
        }
    )
    stripe_sim.pay(session.id, PAID)
    paid = client.v1.checkout.sessions.retrieve(session.id)
    assert (paid.status, paid.payment_status, paid.customer) == ("complete", "paid", customer.id)

    sub = client.v1.subscriptions.retrieve(str(paid.subscription)).to_dict()
    item = sub["items"]["data"][0]
    assert (sub["status"], item["price"]["id"], sub["metadata"]) == (
        "active",
        price.id,
        {"plan_id": "1"},
    )
    assert item["current_period_end"] - item["current_period_start"] == 30 * 24 * 3600
    invoice = client.v1.invoices.retrieve(str(paid.invoice)).to_dict()
    assert invoice["parent"]["subscription_details"]["subscription"] == sub["id"]
    assert (invoice["status"], invoice["billing_reason"], invoice["amount_paid"]) == (
        "paid",
        "subscription_create",
        800,
    )
    assert invoice["payments"]["data"][0]["payment"]["payment_intent"].startswith("pi_")

    ending = client.v1.subscriptions.update(sub["id"], params={"cancel_at_period_end": True})
    assert ending.cancel_at_period_end is True and ending.status == "active"
    assert client.v1.subscriptions.cancel(sub["id"]).status == "canceled"
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.subscriptions.cancel(sub["id"])
    types = [event["type"] for event in stripe_sim.take_events()]
    assert types.index("customer.subscription.created") < types.index("invoice.paid")
    assert types[-1] == "customer.subscription.deleted"
