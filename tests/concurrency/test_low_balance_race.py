"""Real threads against PostgreSQL: twenty submissions at once that take a balance across the
low-balance threshold alert once, and buy one auto-refill with one charge at Stripe."""

from __future__ import annotations

import functools

import pytest

from credits.models import Order, OrderStatus
from credits.selectors import balance_of
from tests.concurrency.threads import race
from tests.credits.refill_support import off_session_charges, run_named_tasks, save_card, turn_on
from tests.credits.stripe_support import deliver_all
from tests.generations.lifecycle_helpers import scheduled_tasks, submit

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("replicate_settings"),
]


def twenty_submissions(user) -> list:
    return race(
        [
            functools.partial(
                submit, user, f"Concurrent submission number {n}", model_key="t2v-14B"
            )
            for n in range(20)
        ]
    )


def test_twenty_concurrent_submissions_crossing_the_threshold_alert_once(
    user, settings, client, assert_audit_clean
):
    settings.MAX_IN_FLIGHT_PER_USER = settings.API_SUBMISSIONS_PER_MINUTE = 100
    client.force_login(user)
    client.post("/settings/billing/low-balance/", {"threshold": "55"})

    twenty_submissions(user)  # 100 credits, 10 each: ten get through

    assert balance_of(user) == 0
    assert len(scheduled_tasks("send_low_balance_alert")) == 1
    assert_audit_clean()


def test_twenty_concurrent_submissions_crossing_the_threshold_buy_one_refill(
    stripe_sim, user, settings, client, assert_audit_clean
):
    settings.MAX_IN_FLIGHT_PER_USER = settings.API_SUBMISSIONS_PER_MINUTE = 100
    client.force_login(user)
    save_card(stripe_sim, client, user)
    turn_on(client, threshold=50, credits=100)

    twenty_submissions(user)

    (order,) = Order.objects.filter(user=user, refill_key__isnull=False)
    assert run_named_tasks("charge_refill") == 1
    deliver_all(stripe_sim)
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert len(off_session_charges(stripe_sim)) == 1
    assert balance_of(user) == 0 + 100
    assert_audit_clean()
