"""The only code that changes a credit balance.

Every action locks the user's balance row, writes one ledger row and the new balance in the same
transaction. Callers that also change other rows (a generation) call these inside their own
`transaction.atomic()` so everything commits or nothing does.
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction

from credits.models import CreditBalance, CreditTransaction, TransactionType
from wan_pwa.errors import DomainError


class CreditError(DomainError):
    """A credit operation that cannot be done, with a sentence a user or operator can read."""

    code = "credit_error"


class InsufficientCredits(CreditError):
    code = "insufficient_credits"
    status = 402

    def __init__(self, needed: int, available: int) -> None:
        self.needed = needed
        self.available = available
        super().__init__(f"This needs {needed} credits but only {available} are available.")

    def extra(self) -> dict[str, int]:
        return {"needed": self.needed, "available": self.available}


GRANT_TYPES = (TransactionType.BONUS, TransactionType.PURCHASE, TransactionType.ADJUSTMENT)


def lock_balance(user) -> CreditBalance:
    """The user's balance row, locked until the caller's transaction ends: what serializes
    every credit change of one user, and every submission of theirs."""
    try:
        return CreditBalance.objects.select_for_update().get(user=user)
    except CreditBalance.DoesNotExist:
        # A user made outside the manager (raw ORM); the primary key on user makes two
        # concurrent creations collapse into one row.
        CreditBalance.objects.get_or_create(user=user)
        return CreditBalance.objects.select_for_update().get(user=user)


def _write(
    balance: CreditBalance,
    *,
    amount: int,
    type: str,
    description: str,
    generation=None,
    created_by=None,
) -> CreditTransaction:
    new_balance = balance.balance + amount
    if new_balance < 0:
        raise InsufficientCredits(needed=-amount, available=balance.balance)
    balance.balance = new_balance
    balance.save(update_fields=["balance", "updated_at"])
    return CreditTransaction.objects.create(
        user_id=balance.user_id,
        amount=amount,
        type=type,
        generation=generation,
        description=description[:255],
        balance_after=new_balance,
        created_by=created_by,
    )


def open_credit_account(user) -> CreditTransaction | None:
    """The balance row for a new user and the sign-up bonus, in the caller's transaction."""
    with transaction.atomic():
        CreditBalance.objects.create(user=user)
        bonus = settings.SIGNUP_BONUS_CREDITS
        if bonus <= 0:
            return None
        return add_credits(user, bonus, type=TransactionType.BONUS, description="Welcome bonus")


def add_credits(
    user,
    amount: int,
    *,
    type: str = TransactionType.ADJUSTMENT,
    description: str = "",
    created_by=None,
) -> CreditTransaction:
    """A bonus, a purchase, or a signed staff adjustment that never takes the balance below 0."""
    if type not in GRANT_TYPES:
        raise CreditError(f"Credits can only be added as {', '.join(GRANT_TYPES)}, not {type!r}.")
    if not isinstance(amount, int) or isinstance(amount, bool) or amount == 0:
        raise CreditError("The amount must be a whole number other than zero.")
    if amount < 0 and type != TransactionType.ADJUSTMENT:
        raise CreditError("Only an adjustment can remove credits.")
    with transaction.atomic():
        balance = lock_balance(user)
        if balance.balance + amount < 0:
            raise CreditError(
                f"Removing {-amount} credits would leave {user} with a negative balance "
                f"(they have {balance.balance})."
            )
        return _write(
            balance, amount=amount, type=type, description=description, created_by=created_by
        )


def charge_generation(generation, balance: CreditBalance | None = None) -> CreditTransaction:
    """Take the generation's cost; InsufficientCredits if the balance cannot cover it.

    `balance` is the user's row when the caller already locked it (lock_balance) in the
    transaction that creates the generation.
    """
    if balance is None:
        with transaction.atomic():
            return charge_generation(generation, lock_balance(generation.user))
    if balance.balance < generation.cost:
        raise InsufficientCredits(needed=generation.cost, available=balance.balance)
    return _write(
        balance,
        amount=-generation.cost,
        type=TransactionType.DEDUCTION,
        generation=generation,
        description=f"Generation #{generation.pk} ({generation.model_key} {generation.resolution})",
    )


def refund_generation_charge(generation, *, reason: str = "") -> CreditTransaction | None:
    """Give back what the generation was charged, exactly once.

    Returns the refund row, or None when there is nothing to refund (already refunded, or never
    charged). The check runs under the balance lock; the one-refund-per-generation constraint and
    the refund-matches-deduction trigger back it in the database.
    """
    with transaction.atomic():
        balance = lock_balance(generation.user)
        charges = {
            row.type: row
            for row in CreditTransaction.objects.filter(
                generation=generation,
                type__in=[TransactionType.DEDUCTION, TransactionType.REFUND],
            )
        }
        deduction = charges.get(TransactionType.DEDUCTION)
        if deduction is None or TransactionType.REFUND in charges:
            return None
        return _write(
            balance,
            amount=-deduction.amount,
            type=TransactionType.REFUND,
            generation=generation,
            description=f"Refund for generation #{generation.pk}"
            + (f": {reason}" if reason else ""),
        )
