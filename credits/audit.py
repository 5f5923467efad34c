"""Proof that the ledger and the balances agree (used by `manage.py audit_credits` and tests)."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db.models import F, Q, Sum

from credits.models import (
    OPENING_SOURCE,
    BucketMovement,
    CreditBalance,
    CreditBucket,
    CreditTransaction,
    MovementKind,
    Order,
    OrderStatus,
    PlanInvoice,
    TransactionType,
)


@dataclass(frozen=True)
class Mismatch:
    username: str
    problem: str

    def __str__(self) -> str:
        return f"{self.username}: {self.problem}"


@dataclass(frozen=True)
class AuditReport:
    users: int
    transactions: int
    total_balance: int
    mismatches: list[Mismatch]

    @property
    def clean(self) -> bool:
        return not self.mismatches


def audit_credits() -> AuditReport:
    """Checks every user: balance == sum of the ledger, each row's balance_after == the previous
    row's balance_after + its amount, refunds match their deductions, and purchases: one grant
    per paid order and none for another, clawbacks matching refunds and disputes, debts; and
    buckets (see _audit_buckets)."""
    User = get_user_model()
    balances = dict(CreditBalance.objects.values_list("user_id", "balance"))
    sums = dict(
        CreditTransaction.objects.values("user_id")
        .annotate(total=Sum("amount"))
        .values_list("user_id", "total")
    )
    names = dict(User.objects.values_list("id", "username"))
    mismatches: list[Mismatch] = []

    for user_id in sorted(set(balances) | set(sums)):
        balance, total = balances.get(user_id, 0), sums.get(user_id, 0)
        if balance != total:
            mismatches.append(
                Mismatch(names[user_id], f"balance is {balance} but the ledger sums to {total}")
            )

    # Streams the ledger once, in the order it was written.
    running: dict[int, int] = {}
    count = 0
    rows = CreditTransaction.objects.order_by("user_id", "id").values_list(
        "id", "user_id", "amount", "balance_after"
    )
    for tx_id, user_id, amount, balance_after in rows.iterator(chunk_size=2000):
        count += 1
        expected = running.get(user_id, 0) + amount
        if balance_after != expected:
            mismatches.append(
                Mismatch(
                    names[user_id],
                    f"ledger row {tx_id} says balance_after={balance_after}, expected {expected}",
                )
            )
        running[user_id] = balance_after

    deductions = dict(
        CreditTransaction.objects.filter(type=TransactionType.DEDUCTION).values_list(
            "generation_id", "amount"
        )
    )
    refunds = CreditTransaction.objects.filter(type=TransactionType.REFUND).values_list(
        "id", "user_id", "generation_id", "amount"
    )
    for tx_id, user_id, generation_id, amount in refunds:
        if deductions.get(generation_id) != -amount:
            mismatches.append(
                Mismatch(
                    names[user_id],
                    f"refund {tx_id} of {amount} does not match a deduction of generation "
                    f"{generation_id}",
                )
            )

    mismatches += _audit_orders(names)
    mismatches += _audit_buckets(names, balances)

    return AuditReport(
        users=len(names),
        transactions=count,
        total_balance=sum(balances.values()),
        mismatches=mismatches,
    )


def _audit_orders(names: dict[int, str]) -> list[Mismatch]:
    """Every paid order and plan invoice has exactly one grant of its credits and no unpaid
    order has any; what was taken back equals what its refunds and dispute call for, less its
    debt; each user's debt is the sum of their orders' and plan invoices' debts."""
    mismatches: list[Mismatch] = []
    debts: dict[int, int] = {}
    for model, link in ((Order, "order"), (PlanInvoice, "plan_invoice")):
        grants: dict[int, list[int]] = {}
        taken: dict[int, int] = {}
        rows = CreditTransaction.objects.filter(**{f"{link}__isnull": False}).values_list(
            f"{link}_id", "type", "amount"
        )
        for paid_id, type, amount in rows.iterator(chunk_size=2000):
            if type == TransactionType.PURCHASE:
                grants.setdefault(paid_id, []).append(amount)
            else:
                taken[paid_id] = taken.get(paid_id, 0) - amount
        for paid in model.objects.all().iterator(chunk_size=2000):
            name = names[paid.user_id]
            if isinstance(paid, Order):
                expected = [paid.credits] if paid.status == OrderStatus.PAID else []
                what = f"order {paid.pk} ({paid.status})"
            else:
                expected = [paid.credits] if paid.credits else []
                what = f"plan invoice {paid.pk}"
            if grants.get(paid.pk, []) != expected:
                mismatches.append(
                    Mismatch(
                        name,
                        f"{what} has grants {grants.get(paid.pk, [])}, expected {expected}",
                    )
                )
            owed = paid.credits_to_take_back()
            if paid.credits_owed != owed or taken.get(paid.pk, 0) != paid.credits_recovered:
                mismatches.append(
                    Mismatch(
                        name,
                        f"{what}: refunds and dispute call back {owed} credits, it records "
                        f"{paid.credits_owed} owed and {paid.credits_recovered} recovered, the "
                        f"ledger took back {taken.get(paid.pk, 0)}",
                    )
                )
            debts[paid.user_id] = debts.get(paid.user_id, 0) + paid.debt
    for user_id, debt in CreditBalance.objects.values_list("user_id", "debt"):
        if debt != debts.get(user_id, 0):
            mismatches.append(
                Mismatch(
                    names[user_id],
                    f"debt is {debt} but their orders and plans owe {debts.get(user_id, 0)}",
                )
            )
    return mismatches


def _audit_buckets(names: dict[int, str], balances: dict[int, int]) -> list[Mismatch]:
    """Each user's buckets hold their balance (an expired bucket counts until its expiry row is
    written, as the balance does); each bucket holds what it was granted plus what ledger rows
    gave back, less what they drew and what expired; and each ledger row since buckets came
    (after the user's opening bucket) is explained by the buckets it made and the movements it
    recorded. Negative buckets are refused by a constraint."""
    mismatches: list[Mismatch] = []
    held = dict(
        CreditBucket.objects.values("user_id")
        .annotate(total=Sum("remaining"))
        .values_list("user_id", "total")
    )
    for user_id in sorted(set(balances) | set(held)):
        if held.get(user_id, 0) != balances.get(user_id, 0):
            mismatches.append(
                Mismatch(
                    names[user_id],
                    f"buckets hold {held.get(user_id, 0)} credits but the balance is "
                    f"{balances.get(user_id, 0)}",
                )
            )
    buckets = CreditBucket.objects.annotate(moved=Sum("movements__amount")).values_list(
        "pk", "user_id", "granted", "remaining", "moved"
    )
    for pk, user_id, granted, remaining, moved in buckets.iterator(chunk_size=2000):
        if remaining != granted + (moved or 0):
            mismatches.append(
                Mismatch(
                    names[user_id],
                    f"bucket {pk} holds {remaining} credits, but it was granted {granted} and "
                    f"its movements add up to {moved or 0}",
                )
            )
    mismatches += _audit_rows_against_buckets(names)
    early = BucketMovement.objects.filter(kind=MovementKind.EXPIRY).filter(
        Q(bucket__expires_at__isnull=True) | Q(bucket__expires_at__gt=F("transaction__created_at"))
    )
    for tx_id, user_id in early.values_list("transaction_id", "transaction__user_id"):
        mismatches.append(Mismatch(names[user_id], f"expiry row {tx_id} is before its expiry"))
    return mismatches


def _audit_rows_against_buckets(names: dict[int, str]) -> list[Mismatch]:
    moved = dict(
        BucketMovement.objects.values("transaction_id")
        .annotate(total=Sum("amount"))
        .values_list("transaction_id", "total")
    )
    new_buckets = CreditBucket.objects.exclude(source=OPENING_SOURCE)
    granted = dict(
        new_buckets.values("transaction_id")
        .annotate(total=Sum("granted"))
        .values_list("transaction_id", "total")
    )
    since = dict(
        CreditBucket.objects.filter(source=OPENING_SOURCE).values_list("user_id", "transaction_id")
    )
    mismatches: list[Mismatch] = []
    rows = CreditTransaction.objects.order_by("id").values_list("id", "user_id", "amount")
    for tx_id, user_id, amount in rows.iterator(chunk_size=2000):
        if tx_id <= since.get(user_id, 0):
            continue  # before buckets came: the opening bucket holds what these left
        explained = moved.get(tx_id, 0) + granted.get(tx_id, 0)
        if amount != explained:
            mismatches.append(
                Mismatch(
                    names[user_id],
                    f"ledger row {tx_id} of {amount:+d} moved {explained:+d} credits in buckets",
                )
            )
    return mismatches
