"""The credits' hourly counts for the staff dashboard (wan_pwa.analytics): credits moved by
each kind of ledger row, free credits spent (what DAILY_CREDIT_SPEND_CAP counts:
generations/limits.py), and the money taken for packs."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from django.db.models import Exists, OuterRef, Sum

from credits.models import CreditTransaction, Order, OrderStatus, TransactionType
from wan_pwa.analytics.rollup import Count, fill, per_hour


def roll_up() -> str:
    """Periodic job: refreshes the credits' hourly counts."""
    return fill("credits", hourly_counts)


def hourly_counts(start: datetime, end: datetime) -> Iterator[Count]:
    ledger = CreditTransaction.objects.filter(created_at__gte=start, created_at__lt=end)
    for row in per_hour(ledger, "created_at").values("hour", "type").annotate(total=Sum("amount")):
        # Signed, as in the ledger: deductions and clawbacks are negative, adjustments either.
        yield Count("moved", row["type"], row["hour"], row["total"])

    # Deductions of users who never bought credits, as the daily cap counts them (positive).
    purchases = CreditTransaction.objects.filter(
        user=OuterRef("user"), type=TransactionType.PURCHASE
    )
    free = ledger.filter(type=TransactionType.DEDUCTION).exclude(Exists(purchases))
    for row in per_hour(free, "created_at").values("hour").annotate(total=Sum("amount")):
        yield Count("free_spent", "", row["hour"], -row["total"])

    paid = Order.objects.filter(status=OrderStatus.PAID, paid_at__gte=start, paid_at__lt=end)
    for row in per_hour(paid, "paid_at").values("hour", "currency").annotate(total=Sum("amount")):
        yield Count("revenue", row["currency"], row["hour"], row["total"])


def moved_since(start: datetime) -> Iterator[tuple[str, int]]:
    """The `moved` count from `start` on, by ledger row type (for /metrics)."""
    ledger = CreditTransaction.objects.filter(created_at__gte=start)
    yield from ledger.values("type").annotate(total=Sum("amount")).values_list("type", "total")
