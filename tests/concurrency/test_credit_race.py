"""Real threads against PostgreSQL: the balance lock lets exactly as many charges through as the
balance covers."""

from __future__ import annotations

import functools

import pytest

from credits.actions import InsufficientCredits, charge_generation, refund_generation_charge
from credits.models import CreditTransaction
from credits.selectors import balance_of
from generations.models import Generation, Status
from tests.concurrency.threads import race
from tests.factories import make_generation
from wan_pwa.accounts.models import User

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def generations_for(user: User, count: int) -> list[Generation]:
    """`count` generations of 10 credits each, not charged yet."""
    return [
        make_generation(
            user, status=Status.QUEUED, prompt=f"race number {n} of many", charged=False
        )
        for n in range(count)
    ]


def test_fifty_concurrent_charges_of_10_from_100_let_exactly_ten_through(user, assert_audit_clean):
    generations = generations_for(user, 50)

    results = race([functools.partial(charge_generation, g) for g in generations])

    charged = [r for r in results if isinstance(r, CreditTransaction)]
    refused = [r for r in results if isinstance(r, InsufficientCredits)]
    assert (len(charged), len(refused)) == (10, 40)
    assert balance_of(user) == 0
    assert sorted(r.balance_after for r in charged) == list(range(0, 100, 10))
    assert_audit_clean()


def test_concurrent_refunds_of_one_generation_refund_it_once(user, assert_audit_clean):
    (generation,) = generations_for(user, 1)
    charge_generation(generation)

    results = race([lambda: refund_generation_charge(generation)] * 20)

    assert sum(isinstance(r, CreditTransaction) for r in results) == 1
    assert results.count(None) == 19
    assert balance_of(user) == 100
    assert_audit_clean()
