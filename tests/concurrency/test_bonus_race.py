"""Verifications at the same moment: one mailbox under several spellings, several accounts, or
one account twice; one bonus in all, and the day's bonus budget never overshot."""

from __future__ import annotations

import functools

import pytest
from pytest_django import Settings

from credits.bonus import BonusOutcome, claim_signup_bonus
from credits.models import BonusBudgetDay, CreditTransaction
from tests.concurrency.threads import race
from wan_pwa.accounts.models import User

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

SPELLINGS = [
    "sam.lee@gmail.com",
    "samlee+1@gmail.com",
    "Sam.Lee+2@googlemail.com",
    "SAMLEE@gmail.com",
]


def test_one_mailbox_verified_by_four_accounts_at_once_earns_one_bonus(assert_audit_clean):
    users = [
        User.objects.create_user(f"sam{n}", email, "pw-123-456-x")
        for n, email in enumerate(SPELLINGS)
    ]
    outcomes = race(
        [
            functools.partial(claim_signup_bonus, user, email)
            for user, email in zip(users, SPELLINGS, strict=True)
        ]
    )
    assert sorted(outcomes) == sorted([BonusOutcome.GRANTED] + [BonusOutcome.ADDRESS_USED] * 3)
    assert CreditTransaction.objects.filter(type="bonus").count() == 1
    assert_audit_clean()


def test_one_account_verifying_twice_at_once_gets_one_bonus(assert_audit_clean):
    user = User.objects.create_user("twice", "twice@example.com", "pw-123-456-x")
    outcomes = race(
        [lambda: claim_signup_bonus(user, "twice@example.com")] * 2
        + [lambda: claim_signup_bonus(user, "other@example.com")] * 2
    )
    assert outcomes.count(BonusOutcome.GRANTED) == 1
    assert CreditTransaction.objects.filter(user=user, type="bonus").count() == 1
    assert_audit_clean()


def test_many_accounts_at_once_never_overshoot_the_days_budget(
    settings: Settings, assert_audit_clean
):
    settings.SIGNUP_BONUS_DAILY_BUDGET = 300
    users = [
        User.objects.create_user(f"u{n}", f"u{n}@example.com", "pw-123-456-x") for n in range(8)
    ]
    outcomes = race([functools.partial(claim_signup_bonus, user, user.email) for user in users])
    assert outcomes.count(BonusOutcome.GRANTED) == 3
    assert outcomes.count(BonusOutcome.WAITING) == 5
    assert BonusBudgetDay.objects.get().credits == 300
    assert CreditTransaction.objects.filter(type="bonus").count() == 3
    assert_audit_clean()
