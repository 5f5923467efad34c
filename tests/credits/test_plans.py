"""Monthly plans through the Stripe simulator, over HTTP: subscribing on its checkout page,
renewals advanced on request, a failed renewal and a fixed card, cancellation at the period's
end, an upgrade's difference, refunds; every batch of events delivered shuffled and twice."""

from __future__ import annotations

import httpx
import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.test import Client

from credits.models import (
    CreditBalance,
    CreditTransaction,
    PlanInvoice,
    StripeCustomer,
    Subscription,
    SubscriptionStatus,
    TransactionType,
)
from credits.selectors import balance_of
from tests.credits.plan_support import (
    advance,
    deliver_shuffled_twice,
    in_portal,
    open_portal,
    plan,
    price_option,
    subscribe,
)
from tests.credits.stripe_support import DECLINED, PAID, deliver
from tests.factories import set_credits
from wan_pwa.accounts.deletion import delete_account

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

FAILS_WHEN_CHARGED = "4000 0000 0000 0341"


def plan_grants(user) -> list[int]:
    return list(
        CreditTransaction.objects.filter(
            user=user, type=TransactionType.PURCHASE, plan_invoice__isnull=False
        )
        .order_by("id")
        .values_list("amount", flat=True)
    )


@pytest.fixture
def subscriber(stripe_sim, user, logged_in: Client, assert_audit_clean) -> Subscription:
    """The user, subscribed to Starter with nothing else to their name."""
    set_credits(user, 0)
    page = subscribe(stripe_sim, logged_in)
    assert page.status_code == 303 and "plan=started" in page.headers["Location"]
    outcomes = deliver_shuffled_twice(stripe_sim, seed=1)
    assert outcomes.count("granted") == 1 and outcomes.count("already_granted") == 1, outcomes
    assert "unknown_order" not in outcomes
    return Subscription.objects.get(user=user)


def test_subscribing_grants_the_plans_credits_once_and_shows_the_plan(
    subscriber, user, logged_in, assert_audit_clean
):
    assert (subscriber.plan, subscriber.status) == (plan("Starter"), SubscriptionStatus.ACTIVE)
    assert subscriber.stripe_customer_id == StripeCustomer.objects.get(user=user).stripe_customer_id
    assert plan_grants(user) == [200]
    assert balance_of(user) == 200
    page = logged_in.get("/settings/billing/").content.decode()
    assert "Your plan: <strong>Starter</strong>" in page and "Renews on" in page
    assert "Manage plan" in page
    credits = logged_in.get("/api/v1/credits/").json()
    assert credits["subscription"]["plan"]["name"] == "Starter"
    assert (credits["subscription"]["status"], credits["buckets"][0]["source"]) == (
        "active",
        "plan",
    )
    assert_audit_clean()


def test_three_renewals_grant_each_period_once_whatever_the_order(
    stripe_sim, subscriber, user, assert_audit_clean
):
    first_end = subscriber.current_period_end
    for seed in range(3):
        assert advance(stripe_sim, subscriber.stripe_subscription_id).status_code == 200
        outcomes = deliver_shuffled_twice(stripe_sim, seed=seed)
        assert outcomes.count("granted") == 1, outcomes
    assert plan_grants(user) == [200] * 4
    assert PlanInvoice.objects.filter(user=user).count() == 4
    subscriber.refresh_from_db()
    assert subscriber.status == SubscriptionStatus.ACTIVE
    assert (subscriber.current_period_end - first_end).days == 90
    assert_audit_clean()


def test_a_failed_renewal_is_past_due_until_the_card_is_fixed(
    stripe_sim, subscriber, user, logged_in, assert_audit_clean, django_capture_on_commit_callbacks
):
    portal = open_portal(stripe_sim, logged_in)
    assert in_portal(portal, "card", card=FAILS_WHEN_CHARGED).status_code == 200
    advance(stripe_sim, subscriber.stripe_subscription_id)
    with django_capture_on_commit_callbacks(execute=True):
        outcomes = deliver_shuffled_twice(stripe_sim, seed=4)
    assert "granted" not in outcomes
    subscriber.refresh_from_db()
    assert subscriber.status == SubscriptionStatus.PAST_DUE
    assert plan_grants(user) == [200]
    [message] = mail.outbox
    assert "payment failed" in message.subject and message.to == [user.email]
    page = logged_in.get("/settings/").content.decode()
    assert 'data-testid="plan-payment-failed"' in page
    assert "Fix payment" in logged_in.get("/settings/billing/").content.decode()

    assert in_portal(open_portal(stripe_sim, logged_in), "card", card=PAID).status_code == 200
    outcomes = deliver_shuffled_twice(stripe_sim, seed=5)
    assert outcomes.count("granted") == 1, outcomes
    subscriber.refresh_from_db()
    assert subscriber.status == SubscriptionStatus.ACTIVE
    assert plan_grants(user) == [200, 200]
    assert 'data-testid="plan-payment-failed"' not in logged_in.get("/settings/").content.decode()
    assert_audit_clean()


def test_a_renewal_still_unpaid_at_the_next_period_grants_nothing_more(
    stripe_sim, subscriber, user, logged_in
):
    in_portal(open_portal(stripe_sim, logged_in), "card", card=FAILS_WHEN_CHARGED)
    advance(stripe_sim, subscriber.stripe_subscription_id)
    advance(stripe_sim, subscriber.stripe_subscription_id)
    deliver_shuffled_twice(stripe_sim, seed=6)
    subscriber.refresh_from_db()
    assert subscriber.status == SubscriptionStatus.UNPAID
    assert plan_grants(user) == [200]


def test_a_cancellation_takes_effect_at_the_periods_end(
    stripe_sim, subscriber, user, logged_in, assert_audit_clean
):
    in_portal(open_portal(stripe_sim, logged_in), "cancel")
    deliver_shuffled_twice(stripe_sim, seed=7)
    subscriber.refresh_from_db()
    assert (subscriber.status, subscriber.cancel_at_period_end) == ("active", True)
    assert "Your plan ends on" in logged_in.get("/settings/billing/").content.decode()

    advance(stripe_sim, subscriber.stripe_subscription_id)
    deliver_shuffled_twice(stripe_sim, seed=8)
    subscriber.refresh_from_db()
    assert subscriber.status == SubscriptionStatus.CANCELED
    assert advance(stripe_sim, subscriber.stripe_subscription_id).status_code == 400
    assert plan_grants(user) == [200]
    page = logged_in.get("/settings/billing/").content.decode()
    assert "Subscribe to Starter" in page  # free to subscribe again
    assert_audit_clean()


def test_an_upgrade_grants_the_difference_once_and_a_downgrade_waits_for_the_period_end(
    stripe_sim, subscriber, user, logged_in, assert_audit_clean
):
    portal = open_portal(stripe_sim, logged_in)
    page = httpx.get(portal).text
    in_portal(portal, "plan", price=price_option(page, "Pro"))
    outcomes = deliver_shuffled_twice(stripe_sim, seed=9)
    assert outcomes.count("granted") == 1, outcomes
    subscriber.refresh_from_db()
    assert subscriber.plan == plan("Pro")
    upgrade = PlanInvoice.objects.get(user=user, billing_reason="subscription_update")
    # Nearly the whole month was left: nearly all of the 600 credits Pro adds to Starter.
    assert 590 <= upgrade.credits <= 600
    assert plan_grants(user) == [200, upgrade.credits]

    in_portal(portal, "plan", price=price_option(page, "Starter"))
    assert "granted" not in deliver_shuffled_twice(stripe_sim, seed=10)
    subscriber.refresh_from_db()
    assert subscriber.plan == plan("Pro")  # until the period ends
    advance(stripe_sim, subscriber.stripe_subscription_id)
    deliver_shuffled_twice(stripe_sim, seed=11)
    subscriber.refresh_from_db()
    assert subscriber.plan == plan("Starter")
    assert plan_grants(user) == [200, upgrade.credits, 200]
    assert_audit_clean()


def test_a_refund_of_a_plan_invoice_takes_back_its_credits_or_leaves_a_debt(
    stripe_sim, subscriber, user, assert_audit_clean
):
    invoice = PlanInvoice.objects.get(user=user)
    assert invoice.payment_intent_id.startswith("pi_")
    stripe_sim.refund(invoice.payment_intent_id, 400)  # half of $8
    deliver_shuffled_twice(stripe_sim, seed=12)
    assert balance_of(user) == 100
    set_credits(user, 30)  # spent most of the rest
    stripe_sim.refund(invoice.payment_intent_id)
    deliver_shuffled_twice(stripe_sim, seed=13)
    invoice.refresh_from_db()
    assert (invoice.amount_refunded, invoice.credits_owed, invoice.debt) == (800, 200, 70)
    assert balance_of(user) == 0
    assert CreditBalance.objects.get(user=user).debt == 70
    assert_audit_clean()


def test_a_declined_card_on_the_checkout_page_starts_nothing(stripe_sim, user, logged_in):
    page = subscribe(stripe_sim, logged_in, card=DECLINED)
    assert page.status_code == 402 and "declined" in page.text
    deliver_shuffled_twice(stripe_sim)
    assert not Subscription.objects.exists() and plan_grants(user) == []


def test_the_command_renews_a_subscription_and_says_what_it_could_not(stripe_sim, subscriber, user):
    port = stripe_sim.base_url.rsplit(":", 1)[1]
    call_command("stripe_simulator", "advance", subscriber.stripe_subscription_id, "--port", port)
    assert deliver_shuffled_twice(stripe_sim).count("granted") == 1
    assert plan_grants(user) == [200, 200]
    with pytest.raises(CommandError, match="No such subscription"):
        call_command("stripe_simulator", "advance", "sub_missing", "--port", port)


def test_deleting_the_account_cancels_the_plan_at_stripe(stripe_sim, subscriber, user):
    delete_account(user)
    deliver_shuffled_twice(stripe_sim)
    subscriber.refresh_from_db()
    assert subscriber.status == SubscriptionStatus.CANCELED
    assert stripe_sim.state.objects[subscriber.stripe_subscription_id]["status"] == "canceled"
    delete_account(user)  # run again after an interruption: nothing more to cancel


def test_an_invoice_event_without_its_payments_is_linked_by_invoice_payment_paid(
    stripe_sim, user, logged_in, assert_audit_clean
):
    set_credits(user, 0)
    subscribe(stripe_sim, logged_in)
    events = stripe_sim.take_events()
    for event in events:
        event["data"]["object"].pop("payments", None)  # as Stripe sends them unless expanded
    [linking] = [event for event in events if event["type"] == "invoice_payment.paid"]
    client = Client()
    for event in events:
        if event is not linking:
            deliver(event, client)
    invoice = PlanInvoice.objects.get(user=user)
    assert invoice.payment_intent_id == "" and balance_of(user) == 200
    stripe_sim.refund(linking["data"]["object"]["payment"]["payment_intent"])
    refunds = [deliver(event, client).json()["outcome"] for event in stripe_sim.take_events()]
    assert "unknown_payment" in refunds  # kept until the payment is known
    assert deliver(linking, client).json()["outcome"] == "payment_linked"
    invoice.refresh_from_db()
    assert (invoice.amount_refunded, balance_of(user)) == (800, 0)
    assert_audit_clean()


def test_a_dispute_of_a_plan_invoice_holds_its_credits_until_won(
    stripe_sim, subscriber, user, assert_audit_clean
):
    invoice = PlanInvoice.objects.get(user=user)
    dispute = stripe_sim.dispute(invoice.payment_intent_id)
    assert "taken_back" in deliver_shuffled_twice(stripe_sim, seed=14)
    assert balance_of(user) == 0
    stripe_sim.close_dispute(dispute["id"], "won")
    deliver_shuffled_twice(stripe_sim, seed=15)
    invoice.refresh_from_db()
    assert (invoice.dispute_status, balance_of(user)) == ("won", 200)
    assert_audit_clean()
