"""Credits in buckets: each grant is a bucket with its expiry (or none); what a ledger row takes
or gives back is recorded per bucket.

Every function here runs inside the caller's transaction, under the user's balance-row lock
(credits.actions): that lock serializes every change of one user's buckets, so the bucket rows
need no locks of their own.

- Spending order: the bucket that expires first, buckets that never expire last, then the
  oldest. An expired bucket is never drawn from, even before its expiry row is written.
- A refund goes back to the buckets its charge came from. A bucket that expired meanwhile
  gets nothing back; its share goes into a new bucket of the same kind that lasts as long as
  the credits had left when they were charged (see `give_back`).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Case, F, Q, QuerySet, Value, When

from credits.models import (
    SPENDING_ORDER,
    BucketMovement,
    CreditBucket,
    CreditTransaction,
    MovementKind,
)


class BucketsShort(Exception):
    """The user's spendable buckets hold less than the balance said: credits that expired
    and were not yet written off, or a damaged bucket. The caller's transaction rolls back."""

    def __init__(self, needed: int, available: int) -> None:
        self.needed, self.available = needed, available
        super().__init__(f"needed {needed} credits, the spendable buckets hold {available}")


def spendable(user_id: int, now: datetime) -> QuerySet[CreditBucket]:
    """The user's buckets that may be drawn from now, in spending order."""
    return CreditBucket.objects.filter(
        Q(expires_at__isnull=True) | Q(expires_at__gt=now), user_id=user_id, remaining__gt=0
    ).order_by(*SPENDING_ORDER)


def due(user_id: int, now: datetime) -> list[CreditBucket]:
    """The user's expired buckets that still hold credits, oldest expiry first."""
    return list(
        CreditBucket.objects.filter(user_id=user_id, remaining__gt=0, expires_at__lte=now).order_by(
            "expires_at", "pk"
        )
    )


def users_with_due_buckets(now: datetime, limit: int) -> list[int]:
    return list(
        CreditBucket.objects.filter(remaining__gt=0, expires_at__lte=now)
        .order_by("user_id")
        .values_list("user_id", flat=True)
        .distinct()[:limit]
    )


def fill(
    row: CreditTransaction,
    credits: int,
    *,
    expires_at: datetime | None = None,
    source: str | None = None,
) -> CreditBucket:
    """A new bucket of `credits` made by the ledger row (its type is the bucket's kind unless
    `source` says otherwise)."""
    return CreditBucket.objects.create(
        user_id=row.user_id,
        transaction=row,
        source=source or row.type,
        granted=credits,
        remaining=credits,
        expires_at=expires_at,
    )


def draw(row: CreditTransaction, credits: int, now: datetime, *, first: Q | None = None) -> None:
    """Takes `credits` for the ledger row from the user's spendable buckets in spending order;
    the buckets matching `first` come before the others (a take-back takes its pack's own
    credits first: `Q(transaction__order=order)`). BucketsShort if they hold less."""
    buckets = spendable(row.user_id, now)
    if first is not None:
        chosen = Case(When(first, then=Value(0)), default=Value(1))
        buckets = buckets.order_by(chosen, *SPENDING_ORDER)
    left, moves = credits, []
    for bucket in buckets.only("pk", "remaining"):
        take = min(left, bucket.remaining)
        CreditBucket.objects.filter(pk=bucket.pk).update(remaining=F("remaining") - take)
        moves.append(
            BucketMovement(bucket=bucket, transaction=row, kind=MovementKind.DRAW, amount=-take)
        )
        left -= take
        if left == 0:
            break
    if left:
        raise BucketsShort(credits, credits - left)
    BucketMovement.objects.bulk_create(moves)


def give_back(refund: CreditTransaction, charge: CreditTransaction, now: datetime) -> None:
    """Returns a refunded charge to the buckets it was drawn from.

    A bucket that has expired since gets nothing back: its share becomes a new bucket of the
    same kind, expiring as long after the refund as the credits had left when charged (a
    generation charged 3 days before its plan credits expired and refunded after they did
    gives those credits back for 3 days). The user loses no time they had to spend them, and
    the credits outlive their period by no more than the generation's run. A charge made
    before buckets existed (no draws) comes back as credits that never expire, like every
    balance of that time.
    """
    draws = charge.bucket_movements.filter(kind=MovementKind.DRAW).select_related("bucket")
    returned = 0
    for move in draws:
        bucket, credits = move.bucket, -move.amount
        returned += credits
        if bucket.expires_at is None or bucket.expires_at > now:
            CreditBucket.objects.filter(pk=bucket.pk).update(remaining=F("remaining") + credits)
            BucketMovement.objects.create(
                bucket=bucket, transaction=refund, kind=MovementKind.RETURN, amount=credits
            )
        else:
            left_then = max(bucket.expires_at - charge.created_at, timedelta(0))
            fill(refund, credits, expires_at=now + left_then, source=bucket.source)
    if returned < refund.amount:
        fill(refund, refund.amount - returned)


def expire(row: CreditTransaction, bucket: CreditBucket) -> None:
    """Records the expiry row `row` as what was left of the bucket, now empty. The unique
    expiry per bucket refuses a second one."""
    BucketMovement.objects.create(
        bucket=bucket, transaction=row, kind=MovementKind.EXPIRY, amount=-bucket.remaining
    )
    CreditBucket.objects.filter(pk=bucket.pk).update(remaining=0)


def holding(user_id: int) -> QuerySet[CreditBucket]:
    """The user's buckets that hold credits, in spending order (an expired one stays until its
    expiry row is written, as it is still in the balance)."""
    return CreditBucket.objects.filter(user_id=user_id, remaining__gt=0).order_by(*SPENDING_ORDER)
