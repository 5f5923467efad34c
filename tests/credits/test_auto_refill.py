"""Auto-refill on PostgreSQL through the Stripe simulator over HTTP: a card saved with Checkout
in setup mode, the chosen pack bought off-session when the balance falls below the threshold,
credited only by the signed webhook, and turned off (with the user told) when the bank wants
the customer or declines."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from credits.actions import add_credits, request_refund
from credits.auto_refill import CHARGE_ATTEMPTS, charge_refill
from credits.jobs import reconcile_orders
from credits.models import AutoRefill, CreditTransaction, Order, OrderStatus, TransactionType
from credits.selectors import balance_of
from credits.simulator.state import StripeError
from tests.credits.refill_support import (
    AUTH_ALWAYS,
    DECLINED_LATER,
    NEVER_SAVES,
    off_session_charges,
    run_named_tasks,
    save_card,
    turn_on,
)
from tests.credits.stripe_support import PAID, buy, deliver, deliver_all
from tests.generations.lifecycle_helpers import scheduled_tasks
from wan_pwa.accounts.models import User

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def spend(user: User, credits: int) -> None:
    add_credits(user, -credits, description="spent in a test")


def refill_orders(user: User) -> list[Order]:
    return list(Order.objects.filter(user=user, refill_key__isnull=False).order_by("pk"))


def charge_and_confirm(sim) -> list[str]:
    """The refill's charging task, then Stripe's events delivered: their outcomes."""
    run_named_tasks("charge_refill")
    return deliver_all(sim)


def test_a_card_saved_in_setup_mode_and_a_fall_below_the_threshold_buy_the_pack_once(
    stripe_sim, logged_in, user, assert_audit_clean
):
    refill = save_card(stripe_sim, logged_in, user)
    assert refill is not None and refill.card_label == "Visa ending 4242"
    assert turn_on(logged_in, threshold=50).status_code == 302

    spend(user, 40)  # 60: above the threshold, nothing happens
    assert refill_orders(user) == []
    spend(user, 20)  # 40: below
    spend(user, 10)  # 30: the same crossing, no second refill

    (order,) = refill_orders(user)
    assert order.status == OrderStatus.PENDING and order.credits == 100
    assert balance_of(user) == 30  # nothing granted before Stripe's webhook
    outcomes = charge_and_confirm(stripe_sim)

    assert "granted" in outcomes
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID and order.payment_intent_id
    assert balance_of(user) == 130
    (charge,) = off_session_charges(stripe_sim)
    assert (charge["amount"], charge["status"]) == (500, "succeeded")
    assert charge["metadata"] == {"order_id": str(order.pk)}
    # A repeated webhook grants nothing more; the order has a receipt like any other.
    succeeded = [e for e in stripe_sim.state.events if e["type"] == "payment_intent.succeeded"]
    assert deliver(succeeded[-1]).json()["outcome"] == "duplicate"
    assert deliver({**succeeded[-1], "id": "evt_other"}).json()["outcome"] == "already_granted"
    assert CreditTransaction.objects.filter(order=order, type=TransactionType.PURCHASE).count() == 1
    assert logged_in.get(f"/settings/billing/orders/{order.pk}/receipt/").status_code == 200
    assert "auto-refill" in logged_in.get("/settings/billing/").content.decode()
    assert_audit_clean()


def test_the_next_crossing_after_a_paid_refill_refills_again_within_the_monthly_maximum(
    stripe_sim, logged_in, user, assert_audit_clean
):
    save_card(stripe_sim, logged_in, user)
    turn_on(logged_in, threshold=50, monthly_max=2)

    for credits in (60, 100, 100):  # three crossings: 100 -> 40, refilled to 140 -> 40, ...
        spend(user, credits)
        charge_and_confirm(stripe_sim)

    assert [o.status for o in refill_orders(user)] == [OrderStatus.PAID, OrderStatus.PAID]
    assert len(off_session_charges(stripe_sim)) == 2
    assert balance_of(user) == 40  # the third fall found the month's two refills spent
    assert logged_in.get("/api/v1/credits/auto-refill/").json()["refills_this_month"] == 2
    assert_audit_clean()


def refused_refill(stripe_sim, client: Client, user: User, card: str) -> Order:
    save_card(stripe_sim, client, user, card)
    turn_on(client, threshold=50)
    spend(user, 60)
    charge_and_confirm(stripe_sim)
    (order,) = refill_orders(user)
    return order


def test_a_refill_that_needs_authentication_turns_auto_refill_off_and_tells_the_user(
    stripe_sim, logged_in, user, assert_audit_clean
):
    order = refused_refill(stripe_sim, logged_in, user, AUTH_ALWAYS)

    assert order.status == OrderStatus.FAILED
    assert balance_of(user) == 40
    refill = AutoRefill.objects.get(user=user)
    assert not refill.enabled and "confirm the payment" in refill.stopped_reason
    (charge,) = off_session_charges(stripe_sim)
    assert charge["status"] == "requires_payment_method"
    assert charge["last_payment_error"]["code"] == "authentication_required"
    run_named_tasks("send_account_mail")
    (message,) = mail.outbox
    assert message.to == [user.email] and "auto-refill is now off" in message.body
    assert "/settings/billing/" in message.body  # where to pay on-session
    page = logged_in.get("/settings/billing/").content.decode()
    assert 'data-testid="auto-refill-stopped"' in page and "Buy credits" in page
    # Falling further buys nothing: it is off until the user turns it on again.
    spend(user, 30)
    assert len(refill_orders(user)) == 1
    assert_audit_clean()


def test_a_declined_refill_turns_auto_refill_off_once_whoever_reports_it_first(
    stripe_sim, logged_in, user
):
    order = refused_refill(stripe_sim, logged_in, user, DECLINED_LATER)

    assert order.status == OrderStatus.FAILED
    refill = AutoRefill.objects.get(user=user)
    assert not refill.enabled and "refused" in refill.stopped_reason
    failed = [e for e in stripe_sim.state.events if e["type"] == "payment_intent.payment_failed"]
    # The task saw the 402 first; the webhook (and a repeat under another id) changes nothing.
    assert deliver({**failed[-1], "id": "evt_again"}).json()["outcome"] == "no_change"
    run_named_tasks("send_account_mail")
    assert len(mail.outbox) == 1
    # Turned on again, the next fall tries again with a new key.
    turn_on(logged_in, threshold=50)
    spend(user, 1)
    assert len(refill_orders(user)) == 2
    assert len({o.refill_key for o in refill_orders(user)}) == 2


def test_a_refill_order_is_refunded_through_the_usual_flow(stripe_sim, logged_in, user):
    save_card(stripe_sim, logged_in, user)
    turn_on(logged_in, threshold=50)
    spend(user, 60)
    charge_and_confirm(stripe_sim)
    (order,) = refill_orders(user)

    request_refund(order)
    deliver_all(stripe_sim)

    order.refresh_from_db()
    assert order.amount_refunded == order.amount
    assert balance_of(user) == 40


def test_a_card_the_bank_declines_is_not_saved(stripe_sim, logged_in, user):
    with pytest.raises(StripeError, match="declined"):
        save_card(stripe_sim, logged_in, user, NEVER_SAVES)
    assert not AutoRefill.objects.filter(user=user).exclude(payment_method_id="").exists()
    response = turn_on(logged_in)
    assert response.status_code == 400
    assert "Save a card first" in response.content.decode()


def test_a_checkout_for_a_pack_never_picks_up_a_refill_in_flight(stripe_sim, logged_in, user):
    save_card(stripe_sim, logged_in, user)
    turn_on(logged_in, threshold=50)
    spend(user, 60)  # a refill of the 100 pack is pending
    bought = buy(stripe_sim, user, 100)
    assert bought.refill_key is None and bought.checkout_session_id
    assert len(refill_orders(user)) == 1


def test_a_refill_whose_webhooks_never_came_is_settled_by_the_reconcile_job(
    stripe_sim, logged_in, user, settings, assert_audit_clean
):
    save_card(stripe_sim, logged_in, user)
    turn_on(logged_in, threshold=50)
    spend(user, 60)
    run_named_tasks("charge_refill")
    stripe_sim.take_events()  # Stripe's webhooks are lost
    (order,) = refill_orders(user)
    age = timedelta(seconds=settings.ORDER_RECONCILE_AFTER + 60)
    Order.objects.filter(pk=order.pk).update(created_at=timezone.now() - age)

    assert reconcile_orders() == "1 granted"
    assert reconcile_orders() == "no pending orders"

    assert balance_of(user) == 140
    assert len(off_session_charges(stripe_sim)) == 1
    assert_audit_clean()


def test_a_refill_whose_charge_was_never_recorded_is_asked_again_with_its_key(
    stripe_sim, logged_in, user, settings
):
    save_card(stripe_sim, logged_in, user, AUTH_ALWAYS)
    turn_on(logged_in, threshold=50)
    spend(user, 60)
    run_named_tasks("charge_refill")
    stripe_sim.take_events()
    (order,) = refill_orders(user)
    # As if the worker died after Stripe refused, before anything was written here.
    Order.objects.filter(pk=order.pk).update(
        status=OrderStatus.PENDING,
        created_at=timezone.now() - timedelta(seconds=settings.ORDER_RECONCILE_AFTER + 60),
    )
    AutoRefill.objects.filter(user=user).update(enabled=True, stopped_reason="")

    assert reconcile_orders() == "1 closed"

    assert len(off_session_charges(stripe_sim)) == 1  # the key replayed Stripe's answer
    assert not AutoRefill.objects.get(user=user).enabled


def test_turning_auto_refill_off_before_the_charge_cancels_the_refill_unpaid(
    stripe_sim, logged_in, user
):
    save_card(stripe_sim, logged_in, user)
    turn_on(logged_in, threshold=50)
    spend(user, 60)
    logged_in.post(
        "/settings/billing/auto-refill/",
        {"threshold": 50, "pack": refill_orders(user)[0].pack_id, "monthly_max": 3},
    )

    run_named_tasks("charge_refill")

    assert [o.status for o in refill_orders(user)] == [OrderStatus.CANCELED]
    assert off_session_charges(stripe_sim) == []
    assert balance_of(user) == 40


def test_a_refill_stripe_never_answered_is_given_up_and_the_next_fall_tries_again(
    stripe_sim, logged_in, user, settings
):
    save_card(stripe_sim, logged_in, user)
    turn_on(logged_in, threshold=50)
    spend(user, 60)
    (order,) = refill_orders(user)
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"  # nothing listens there

    run_named_tasks("charge_refill")  # the first try: another is scheduled, later
    assert scheduled_tasks("charge_refill")
    charge_refill.call(order.pk, CHARGE_ATTEMPTS)  # the last try

    order.refresh_from_db()
    assert order.status == OrderStatus.FAILED
    assert AutoRefill.objects.get(user=user).enabled  # not the card's fault
    settings.STRIPE_API_BASE = stripe_sim.base_url
    spend(user, 1)
    run_named_tasks("charge_refill")
    deliver_all(stripe_sim)
    assert balance_of(user) == 139


def test_a_card_saved_while_stripe_cannot_be_asked_is_saved_when_the_event_comes_again(
    stripe_sim, logged_in, user, settings
):
    session_id = logged_in.post("/settings/billing/auto-refill/card/")["Location"].rsplit("/")[-1]
    stripe_sim.pay(session_id, PAID)
    (completed,) = stripe_sim.take_events("checkout.session.completed")
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"  # nothing listens there

    assert deliver(completed).status_code == 503  # Stripe sends it again later
    assert not AutoRefill.objects.exclude(payment_method_id="").exists()

    settings.STRIPE_API_BASE = stripe_sim.base_url
    assert deliver(completed).json()["outcome"] == "card_saved"
    assert AutoRefill.objects.get(user=user).card_label == "Visa ending 4242"
