"""Real threads against PostgreSQL: one user's checkouts at the same moment open one Stripe
session per pack and never pass the open-order limit, and a cancel racing the payment's
webhook leaves a paid order granted exactly once."""

from __future__ import annotations

import functools

import pytest

from credits.actions import TooManyOpenCheckouts, cancel_checkout, close_order
from credits.models import CreditTransaction, Order, OrderStatus, TransactionType
from credits.selectors import balance_of
from credits.stripe_gateway import CheckoutSession
from tests.concurrency.threads import race
from tests.credits.stripe_support import checkout, deliver, pay

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
]


def sessions_opened(stripe_sim) -> int:
    return sum(obj["object"] == "checkout.session" for obj in stripe_sim.state.objects.values())


def test_concurrent_checkouts_of_one_pack_open_one_order_and_one_session(stripe_sim, user):
    orders = race([functools.partial(checkout, user) for _ in range(10)])

    assert {order.pk for order in orders} == {Order.objects.get(user=user).pk}
    assert {order.checkout_url for order in orders} == {Order.objects.get().checkout_url}
    assert sessions_opened(stripe_sim) == 1


def test_concurrent_checkouts_of_many_packs_stop_at_the_limit(stripe_sim, settings, user):
    settings.MAX_OPEN_CHECKOUTS = 2
    results = race([functools.partial(checkout, user, credits) for credits in (100, 500, 2000)])

    refused = [r for r in results if isinstance(r, TooManyOpenCheckouts)]
    assert len(refused) == 1, results
    assert Order.objects.filter(user=user, status=OrderStatus.PENDING).count() == 2
    assert sessions_opened(stripe_sim) == 2


def test_closing_an_order_while_its_payment_arrives_grants_it_once(
    stripe_sim, user, assert_audit_clean
):
    for credits in (100, 500, 2000):  # three rounds, each racing in its own order
        order = checkout(user, credits)
        pay(stripe_sim, order)
        completed = stripe_sim.take_events("checkout.session.completed")[0]
        session = CheckoutSession.from_dict(completed["data"]["object"])

        # The close of a cancel (or an expired event) against two deliveries of the payment.
        race(
            [
                functools.partial(close_order, session, OrderStatus.CANCELED),
                functools.partial(cancel_checkout, order),
                functools.partial(deliver, completed),
                functools.partial(deliver, {**completed, "id": completed["id"] + "_again"}),
            ]
        )

        order.refresh_from_db()
        assert order.status == OrderStatus.PAID
        grants = CreditTransaction.objects.filter(order=order, type=TransactionType.PURCHASE)
        assert grants.count() == 1
    assert balance_of(user) == 100 + 100 + 500 + 2000
    assert_audit_clean()
