from __future__ import annotations

from credits.models import CreditBalance


def balance_of(user) -> int:
    """The user's current balance (0 for a user without an account row yet)."""
    return (
        CreditBalance.objects.filter(user_id=user.pk).values_list("balance", flat=True).first() or 0
    )
