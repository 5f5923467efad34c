"""The reconcile job: orders whose webhooks never came are settled by asking Stripe (the
simulator, over HTTP), through the same actions, so a late webhook changes nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from credits.jobs import reconcile_orders
from credits.models import CreditTransaction, Order, OrderStatus, TransactionType
from credits.selectors import balance_of
from tests.credits.stripe_support import PAYS_LATER, checkout, deliver_all, pay
from wan_pwa.background.scheduler import JobFailed

pytestmark = pytest.mark.django_db


def abandoned_by_webhooks(order: Order, settings) -> None:
    """As if checkout began long enough ago for the job to look at it."""
    age = timedelta(seconds=settings.ORDER_RECONCILE_AFTER + 60)
    Order.objects.filter(pk=order.pk).update(created_at=timezone.now() - age)


def test_a_paid_order_without_its_webhook_is_granted_once(
    stripe_sim, user, settings, assert_audit_clean
):
    order = checkout(user)
    pay(stripe_sim, order)
    abandoned_by_webhooks(order, settings)

    assert reconcile_orders() == "1 granted"
    assert reconcile_orders() == "no pending orders"
    assert "already_granted" in deliver_all(stripe_sim)  # the webhook, late, grants nothing

    order.refresh_from_db()
    assert order.status == OrderStatus.PAID and order.payment_intent_id
    purchases = CreditTransaction.objects.filter(order=order, type=TransactionType.PURCHASE)
    assert purchases.count() == 1
    assert balance_of(user) == 200
    assert_audit_clean()


def test_an_expired_session_closes_its_order_and_an_open_one_is_left_alone(
    stripe_sim, user, settings
):
    # One order per pack: a second checkout of the same pack would reuse the open one.
    expired, still_open, delayed = checkout(user, 100), checkout(user, 500), checkout(user, 2000)
    stripe_sim.batch(stripe_sim.state.expire, expired.checkout_session_id)
    pay(stripe_sim, delayed, PAYS_LATER)  # paid by a method that settles later
    for order in (expired, still_open, delayed):
        abandoned_by_webhooks(order, settings)

    assert reconcile_orders() == "2 awaiting_payment, 1 closed"

    statuses = dict(Order.objects.values_list("pk", "status"))
    assert statuses == {
        expired.pk: OrderStatus.EXPIRED,
        still_open.pk: OrderStatus.PENDING,
        delayed.pk: OrderStatus.PENDING,
    }
    assert balance_of(user) == 100


def test_a_delayed_payment_that_failed_without_its_webhook_closes_the_order(
    stripe_sim, user, settings
):
    order = checkout(user)
    pay(stripe_sim, order, PAYS_LATER)
    stripe_sim.settle(order.checkout_session_id, succeed=False)
    abandoned_by_webhooks(order, settings)

    assert reconcile_orders() == "1 closed"

    order.refresh_from_db()
    assert order.status == OrderStatus.FAILED
    assert balance_of(user) == 100


def test_a_recent_checkout_is_left_to_its_webhooks(stripe_sim, user):
    order = checkout(user)
    pay(stripe_sim, order)

    assert reconcile_orders() == "no pending orders"
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING


def test_stripe_unreachable_fails_the_run_with_a_sentence_and_changes_nothing(
    stripe_sim, user, settings
):
    order = checkout(user)
    pay(stripe_sim, order)
    abandoned_by_webhooks(order, settings)
    stripe_sim.stop()

    with pytest.raises(JobFailed, match=f"order #{order.pk}: The payment provider could not"):
        reconcile_orders()
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING
    assert balance_of(user) == 100
