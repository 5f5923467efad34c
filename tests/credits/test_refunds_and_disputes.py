"""Refunds and disputes take a paid pack's credits back by the new amount only; what was spent
already becomes a debt that blocks submissions and that the next purchase pays first."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from credits.actions import CreditDebtOutstanding, add_credits
from credits.models import CreditBalance, CreditBucket, CreditTransaction, TransactionType
from credits.selectors import balance_of
from generations.actions.params import GenerationParams
from generations.lifecycle.submission import submit_generation
from tests.credits.stripe_support import buy, deliver, deliver_all

pytestmark = pytest.mark.django_db


def debt_of(user) -> int:
    return CreditBalance.objects.get(user=user).debt


def taken_back(order) -> list[int]:
    return list(
        CreditTransaction.objects.filter(order=order)
        .exclude(type=TransactionType.PURCHASE)
        .order_by("id")
        .values_list("amount", flat=True)
    )


def test_two_partial_refunds_then_a_full_one_take_back_only_each_new_part(
    stripe_sim, user, assert_audit_clean
):
    order = buy(stripe_sim, user, 500)  # 500 credits for 20.00
    charge = stripe_sim.charge_of(order.checkout_session_id)

    stripe_sim.refund(charge, 500)  # 5.00: 125 credits
    first = deliver_all(stripe_sim, "charge.refunded")
    stripe_sim.refund(charge, 300)  # 3.00 more: cumulative 8.00 is 200 credits
    second = stripe_sim.take_events("charge.refunded")
    deliver(second[0])
    deliver(second[0] | {"id": second[0]["id"] + "_replayed"})  # same cumulative amount
    stripe_sim.refund(charge)  # the rest
    deliver_all(stripe_sim)

    order.refresh_from_db()
    assert first == ["taken_back"]
    assert taken_back(order) == [-125, -75, -300]
    assert order.amount_refunded == 2000
    assert balance_of(user) == 100
    assert_audit_clean()


def test_an_older_refund_event_arriving_late_changes_nothing(stripe_sim, user, assert_audit_clean):
    order = buy(stripe_sim, user, 100)
    charge = stripe_sim.charge_of(order.checkout_session_id)
    stripe_sim.refund(charge, 100)
    stripe_sim.refund(charge, 200)
    early, late = stripe_sim.take_events("charge.refunded")

    assert deliver(late).json()["outcome"] == "taken_back"
    assert deliver(early).json()["outcome"] == "no_change"
    assert taken_back(order) == [-60]
    assert_audit_clean()


def test_a_lost_dispute_keeps_the_pack_taken_back(stripe_sim, user, assert_audit_clean):
    order = buy(stripe_sim, user, 100)
    dispute = stripe_sim.dispute(stripe_sim.charge_of(order.checkout_session_id))
    assert "taken_back" in deliver_all(stripe_sim)
    assert balance_of(user) == 100

    stripe_sim.close_dispute(dispute["id"], "lost")
    deliver_all(stripe_sim)

    assert taken_back(order) == [-100]
    assert balance_of(user) == 100
    assert_audit_clean()


def test_a_won_dispute_gives_the_pack_back_even_if_its_events_come_in_reverse(
    stripe_sim, user, assert_audit_clean
):
    order = buy(stripe_sim, user, 100)
    dispute = stripe_sim.dispute(stripe_sim.charge_of(order.checkout_session_id))
    stripe_sim.close_dispute(dispute["id"], "won")
    events = stripe_sim.take_events()

    for event in reversed(events):
        deliver(event)

    order.refresh_from_db()
    assert order.dispute_status == "won"
    assert balance_of(user) == 200
    assert_audit_clean()


def test_a_clawback_of_spent_credits_becomes_a_debt_that_blocks_submitting_until_repaid(
    stripe_sim, user, assert_audit_clean
):
    order = buy(stripe_sim, user, 100)
    add_credits(user, -180, description="spent")  # 20 credits left
    stripe_sim.refund(stripe_sim.charge_of(order.checkout_session_id))
    deliver_all(stripe_sim)

    assert (balance_of(user), debt_of(user)) == (0, 80)
    add_credits(user, 10, description="a grant")
    params = GenerationParams(
        model_key="t2v-1.3B",
        resolution="480p",
        aspect_ratio="16:9",
        prompt="A red fox running through snow",
    )
    with pytest.raises(CreditDebtOutstanding) as refused:
        submit_generation(user, params)
    assert refused.value.extra() == {"debt": 80}
    assert_audit_clean()

    buy(stripe_sim, user, 100)  # +100, pays the 80 owed

    assert (balance_of(user), debt_of(user)) == (30, 0)
    assert taken_back(order) == [-20, -80]
    submit_generation(user, params)
    assert_audit_clean()


def test_a_won_dispute_cancels_the_debt_it_made(stripe_sim, user, assert_audit_clean):
    order = buy(stripe_sim, user, 100)
    add_credits(user, -150, description="spent")
    dispute = stripe_sim.dispute(stripe_sim.charge_of(order.checkout_session_id))
    deliver_all(stripe_sim)
    assert (balance_of(user), debt_of(user)) == (0, 50)

    stripe_sim.close_dispute(dispute["id"], "won")
    deliver_all(stripe_sim)

    assert (balance_of(user), debt_of(user)) == (50, 0)
    assert_audit_clean()


def test_a_refund_that_arrives_before_its_payment_is_applied_once_the_order_is_paid(
    stripe_sim, user, assert_audit_clean
):
    from tests.credits.stripe_support import checkout, pay

    order = checkout(user)
    pay(stripe_sim, order)
    paid_events = stripe_sim.take_events()
    stripe_sim.refund(stripe_sim.charge_of(order.checkout_session_id), 250)

    assert deliver_all(stripe_sim, "charge.refunded") == ["unknown_payment"]
    for event in paid_events:
        deliver(event)

    assert balance_of(user) == 150  # +100 bought, -50 for half of it refunded
    assert_audit_clean()


def buckets_of(user) -> list[tuple[str, int, int]]:
    """(source, remaining, granted) of the user's buckets, in spending order."""
    rows = CreditBucket.objects.filter(user=user)
    return list(rows.values_list("source", "remaining", "granted"))


def test_a_refunded_pack_takes_back_its_own_credits_before_those_expiring_first(
    stripe_sim, user, assert_audit_clean
):
    add_credits(user, 1000, type="bonus", expires_at=timezone.now() + timedelta(days=30))
    order = buy(stripe_sim, user, 500)
    add_credits(user, -300, description="spent")  # from the credits expiring first

    stripe_sim.refund(stripe_sim.charge_of(order.checkout_session_id))
    deliver_all(stripe_sim)

    assert buckets_of(user) == [("bonus", 700, 1000), ("bonus", 100, 100), ("purchase", 0, 500)]
    assert (balance_of(user), debt_of(user)) == (800, 0)
    assert_audit_clean()


def test_a_spent_pack_is_taken_back_from_what_is_left_then_owed_and_a_won_dispute_returns_it(
    stripe_sim, user, assert_audit_clean
):
    order = buy(stripe_sim, user, 100)
    add_credits(user, 30, type="bonus", expires_at=timezone.now() + timedelta(days=30))
    add_credits(user, -200, description="spent")  # 30 expiring, the 100 bonus, 70 of the pack

    dispute = stripe_sim.dispute(stripe_sim.charge_of(order.checkout_session_id))
    deliver_all(stripe_sim)
    assert buckets_of(user) == [("bonus", 0, 30), ("bonus", 0, 100), ("purchase", 0, 100)]
    assert (balance_of(user), debt_of(user)) == (0, 70)

    stripe_sim.close_dispute(dispute["id"], "won")
    deliver_all(stripe_sim)

    # What was taken back comes back as pack credits, which never expire; the debt is gone.
    assert buckets_of(user)[-1] == ("reinstate", 30, 30)
    assert (balance_of(user), debt_of(user)) == (30, 0)
    assert_audit_clean()
