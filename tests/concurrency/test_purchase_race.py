"""Real threads against PostgreSQL: Stripe delivering the same paid session many times at once
(one event repeated, and completed racing async_payment_succeeded) grants the pack once."""

from __future__ import annotations

import functools

import pytest

from credits.models import CreditTransaction, TransactionType
from credits.selectors import balance_of
from tests.concurrency.threads import race
from tests.credits.stripe_support import (
    checkout,
    deliver,
    deliver_all,
    pay,
)

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
]


def test_concurrent_duplicate_deliveries_of_a_paid_session_grant_it_once(
    stripe_sim,
    user,
    assert_audit_clean,
):
    order = checkout(user)
    pay(stripe_sim, order)
    completed = stripe_sim.take_events("checkout.session.completed")[0]
    # Different event ids for the same session, as completed and async_payment_succeeded are.
    events = [completed] * 4 + [{**completed, "id": f"{completed['id']}_{n}"} for n in range(4)]

    responses = race([functools.partial(deliver, event) for event in events])

    outcomes = sorted(response.json()["outcome"] for response in responses)
    # Each event id is logged once; one delivery of the session grants, every other says why not.
    assert outcomes.count("granted") == 1, outcomes
    assert outcomes.count("duplicate") == 3, outcomes
    assert outcomes.count("already_granted") == 4, outcomes
    assert all(response.status_code == 200 for response in responses)
    grants = CreditTransaction.objects.filter(order=order, type=TransactionType.PURCHASE)
    assert grants.count() == 1
    assert balance_of(user) == 200
    assert_audit_clean()


def test_concurrent_partial_refund_events_take_back_each_new_part_once(
    stripe_sim,
    user,
    assert_audit_clean,
):
    order = checkout(user, 500)
    pay(stripe_sim, order)
    deliver_all(stripe_sim)
    charge = stripe_sim.charge_of(order.checkout_session_id)
    for amount in (400, 400, 400):
        stripe_sim.refund(charge, amount)
    refunds = stripe_sim.take_events("charge.refunded")

    race([functools.partial(deliver, event) for event in refunds * 3])

    assert balance_of(user) == 100 + 500 - 300  # 12.00 of 20.00 refunded: 300 credits
    assert_audit_clean()
