"""Buying packs through the Stripe simulator: credits granted once per paid Checkout Session,
only from the signed webhook, whatever Stripe repeats, reorders or delays."""

from __future__ import annotations

import pytest

from credits.models import CreditTransaction, Order, OrderStatus, TransactionType
from credits.selectors import balance_of
from tests.credits.stripe_support import (
    DECLINED,
    NO_FUNDS,
    PAYS_LATER,
    buy,
    checkout,
    deliver,
    deliver_all,
    pay,
)

pytestmark = pytest.mark.django_db


def purchases(order: Order) -> list[int]:
    return list(
        CreditTransaction.objects.filter(order=order, type=TransactionType.PURCHASE).values_list(
            "amount", flat=True
        )
    )


def test_checkout_creates_a_pending_order_and_a_session_for_the_pack(stripe_sim, user):
    order = checkout(user, 500)

    assert (order.status, order.credits, order.amount, order.currency) == (
        OrderStatus.PENDING,
        500,
        2000,
        "usd",
    )
    session = stripe_sim.state.get(order.checkout_session_id, "checkout.session")
    assert session["client_reference_id"] == str(order.pk)
    assert session["metadata"] == {"order_id": str(order.pk)}
    assert session["customer_email"] == user.email
    assert session["amount_total"] == 2000
    assert order.checkout_url == f"{stripe_sim.base_url}/checkout/{order.checkout_session_id}"
    assert (
        f"/billing/{order.pk}/success?session_id={order.checkout_session_id}"
        in (session["success_url"])
    )


def test_a_paid_session_grants_the_pack_once_for_every_repeat_of_its_events(
    stripe_sim, user, assert_audit_clean
):
    order = checkout(user)
    pay(stripe_sim, order)
    events = stripe_sim.take_events()
    completed = next(e for e in events if e["type"] == "checkout.session.completed")

    outcomes = [deliver(event).json()["outcome"] for event in events]
    replay = deliver(completed).json()["outcome"]

    order.refresh_from_db()
    assert "granted" in outcomes
    assert replay == "duplicate"
    assert order.status == OrderStatus.PAID and order.payment_intent_id
    assert purchases(order) == [100]
    assert balance_of(user) == 200  # 100 welcome bonus + 100 bought
    assert_audit_clean()


def test_the_same_session_in_a_new_event_is_not_granted_twice(stripe_sim, user, assert_audit_clean):
    order = checkout(user)
    pay(stripe_sim, order)
    completed = stripe_sim.take_events("checkout.session.completed")[0]
    deliver(completed)

    resent = {**completed, "id": completed["id"] + "_again"}
    assert deliver(resent).json()["outcome"] == "already_granted"
    assert purchases(order) == [100]
    assert_audit_clean()


@pytest.mark.parametrize(
    ("card", "decline_code"), [(DECLINED, "generic_decline"), (NO_FUNDS, "insufficient_funds")]
)
def test_a_declined_card_grants_nothing_and_leaves_the_order_pending(
    stripe_sim, user, card, decline_code, assert_audit_clean
):
    order = checkout(user)

    assert pay(stripe_sim, order, card) == decline_code
    assert deliver_all(stripe_sim) == ["ignored"]  # payment_intent.payment_failed

    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING
    assert purchases(order) == []
    assert balance_of(user) == 100
    assert_audit_clean()


def test_a_delayed_payment_is_granted_when_it_succeeds_not_when_the_session_completes(
    stripe_sim, user, assert_audit_clean
):
    order = checkout(user)
    pay(stripe_sim, order, PAYS_LATER)
    assert deliver_all(stripe_sim) == ["awaiting_payment"]
    assert balance_of(user) == 100

    stripe_sim.settle(order.checkout_session_id)
    outcomes = deliver_all(stripe_sim)

    assert "granted" in outcomes
    assert balance_of(user) == 200
    assert_audit_clean()


def test_a_delayed_payment_that_fails_closes_the_order(stripe_sim, user, assert_audit_clean):
    order = checkout(user)
    pay(stripe_sim, order, PAYS_LATER)
    stripe_sim.settle(order.checkout_session_id, succeed=False)

    assert "closed" in deliver_all(stripe_sim)
    order.refresh_from_db()
    assert order.status == OrderStatus.FAILED
    assert balance_of(user) == 100
    assert_audit_clean()


def test_an_expired_session_closes_the_order(stripe_sim, user):
    order = checkout(user)
    stripe_sim.batch(stripe_sim.state.expire, order.checkout_session_id)

    assert deliver_all(stripe_sim) == ["closed"]
    order.refresh_from_db()
    assert order.status == OrderStatus.EXPIRED


def test_a_session_whose_amount_differs_from_the_order_grants_nothing(stripe_sim, user):
    order = checkout(user)
    pay(stripe_sim, order)
    completed = stripe_sim.take_events("checkout.session.completed")[0]
    completed["data"]["object"]["amount_total"] = 1

    assert deliver(completed).json()["outcome"] == "mismatch"
    assert balance_of(user) == 100


def test_a_purchase_buys_exactly_the_pack(stripe_sim, user, assert_audit_clean):
    order = buy(stripe_sim, user, 2000)

    assert order.status == OrderStatus.PAID
    assert balance_of(user) == 2100
    assert_audit_clean()
