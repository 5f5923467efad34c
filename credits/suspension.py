"""The credits' side of a suspension: a suspended account spends nothing.

Kept out of the ledger (credits.actions), which moves credits whoever the user is; this is the
rule a submission applies before it spends.
"""

from __future__ import annotations

from credits.actions import expire_due_credits, get_balance
from credits.models import CreditBalance
from wan_pwa.accounts.models import User
from wan_pwa.accounts.suspension import AccountSuspended


def lock_balance_of_active_user(user: User) -> CreditBalance:
    """credits.actions.lock_balance for a submission. It also locks the user row (FOR NO KEY
    UPDATE, which plain updates wait for): a suspension committed while this waited is re-read,
    so no generation starts once the account is suspended. AccountSuspended then. Expired
    credits are written off, as lock_balance does."""
    balance = get_balance(
        CreditBalance.objects.select_related("user").select_for_update(
            of=("self", "user"), no_key=True
        ),
        user,
    )
    if not balance.user.is_active:
        raise AccountSuspended()
    expire_due_credits(balance)
    return balance
