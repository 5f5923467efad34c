from __future__ import annotations

from credits.models import CreditBalance, CreditTransaction, TransactionType


def balance_of(user) -> int:
    """The user's current balance (0 for a user without an account row yet)."""
    return (
        CreditBalance.objects.filter(user_id=user.pk).values_list("balance", flat=True).first() or 0
    )


def has_bought_credits(user) -> bool:
    """Whether the user ever bought credits (a purchase in their ledger): their spending is not
    free spending (generations/limits.py)."""
    return CreditTransaction.objects.filter(user=user, type=TransactionType.PURCHASE).exists()


def locked_balance(user) -> CreditBalance:
    """The user's balance row (every account has one from sign-up), locked until the caller's
    transaction ends: what serializes every change of their credits and credit settings."""
    return CreditBalance.objects.select_for_update().get(user_id=user.pk)
