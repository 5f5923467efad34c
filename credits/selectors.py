from __future__ import annotations

from typing import NamedTuple

from django.db.models import Exists, OuterRef

from credits.models import (
    CreditBalance,
    CreditTransaction,
    Subscription,
    SubscriptionStatus,
    TransactionType,
)


def balance_of(user) -> int:
    """The user's current balance (0 for a user without an account row yet)."""
    return (
        CreditBalance.objects.filter(user_id=user.pk).values_list("balance", flat=True).first() or 0
    )


class HeaderCredits(NamedTuple):
    balance: int
    plan_payment_failed: bool  # the user's plan has a failed payment to fix


def header_credits(user) -> HeaderCredits:
    """What every page's header shows of the user's credits, in one query."""
    failing = Subscription.objects.filter(
        user_id=OuterRef("user_id"),
        status__in=[SubscriptionStatus.PAST_DUE, SubscriptionStatus.UNPAID],
    )
    row = (
        CreditBalance.objects.filter(user_id=user.pk)
        .values_list("balance", Exists(failing))
        .first()
    )
    return HeaderCredits(*row) if row else HeaderCredits(0, False)


def has_bought_credits(user) -> bool:
    """Whether the user ever bought credits (a purchase in their ledger): their spending is not
    free spending (generations/limits.py)."""
    return CreditTransaction.objects.filter(user=user, type=TransactionType.PURCHASE).exists()


def locked_balance(user) -> CreditBalance:
    """The user's balance row (every account has one from sign-up), locked until the caller's
    transaction ends: what serializes every change of their credits and credit settings."""
    return CreditBalance.objects.select_for_update().get(user_id=user.pk)
