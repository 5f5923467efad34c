"""Submission limits, applied by the submit actions inside their transaction, after the user's
balance row is locked: that lock serializes one user's submissions, so the per-user counts read
here cannot race with another request of the same user.

- The rate and the cap on generations in flight are one query over the user's recent and
  in-flight generations (both indexed); nothing is written for them.
- The site-wide daily budget (DAILY_CREDIT_SPEND_CAP) is for free spending: it counts and
  refuses only submissions of users who never bought credits (their credits are all free:
  bonuses and staff gifts). A user who paid is never refused because free users spent the
  site's day. Whether a user paid is one indexed query on their ledger, under the balance lock
  the submission holds. Free credits are also capped where they are made: the sign-up bonus has
  a daily budget of its own (SIGNUP_BONUS_DAILY_BUDGET, credits/bonus.py).
- That budget must not be one row that every submission locks. With
  REDIS_URL it is one atomic INCRBY (exact); without Redis, a counter sharded by user, so
  submissions of different users rarely wait for each other, at the price of a possible
  overshoot by the submissions committing at the same moment on other shards. It is a budget
  guard, not money: the ledger stays exact either way.

Every check fails closed: when Redis cannot be reached, submissions are refused.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import redis
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, Exists, F, Min, OuterRef, Q, Sum
from django.utils import timezone

from credits.models import CreditTransaction, TransactionType
from credits.selectors import has_bought_credits
from generations.models import IN_FLIGHT_STATUSES, DailySpend, Generation, Status
from wan_pwa.accounts.models import ApiKey
from wan_pwa.errors import DomainError

IN_FLIGHT_RETRY_AFTER = 15  # a generation takes a minute or more; check back a little later
SPEND_SHARDS = 16
REDIS_TIMEOUT = 2  # seconds; a limit that cannot be read in time refuses (fail closed)
SPEND_KEY_TTL = 2 * 86400
REFUNDED_STATUSES = (Status.FAILED, Status.CANCELED)  # their charge was given back

# Adds to today's counter only if it exists, so a lost counter is rebuilt from the ledger
# instead of starting again from zero.
_INCRBY_IF_EXISTS = """
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
return redis.call('INCRBY', KEYS[1], ARGV[1])
"""


class LimitExceeded(DomainError):
    """A submission refused by a limit; `retry_after` says when it may succeed."""

    code = "rate_limited"
    status = 429


class TooManyInFlight(LimitExceeded):
    code = "too_many_in_flight"


class DailySpendCapReached(LimitExceeded):
    """Free users together spent the day's free budget: fails closed until midnight."""

    code = "daily_spend_cap_reached"
    status = 503


class LimitsUnavailable(LimitExceeded):
    code = "limits_unavailable"
    status = 503


class KeyCreditCapReached(DomainError):
    """The API key's monthly credit cap would be passed; its owner may raise it or wait."""

    code = "key_credit_cap_reached"
    status = 402

    def __init__(self, *, cap: int, spent: int, needed: int) -> None:
        super().__init__(
            f"This API key may spend {cap} credits a month and has spent {spent} this month; "
            f"this needs {needed} more. Nothing was charged. Raise the cap with a new key on the "
            "Settings page, or wait for the next month (UTC)."
        )
        self.cap, self.spent, self.needed = cap, spent, needed

    def extra(self) -> dict[str, Any]:
        return {
            "monthly_credit_cap": self.cap,
            "spent_this_month": self.spent,
            "needed": self.needed,
        }


@dataclass(frozen=True)
class SubmissionUsage:
    """One user's use of the per-user limits, read in one indexed query."""

    recent: int  # submissions within the rate window
    in_flight: int
    retry_after: int  # seconds until the oldest recent submission leaves the window (0: none)

    @classmethod
    def of(cls, user) -> SubmissionUsage:
        window = settings.API_SUBMISSION_RATE_WINDOW
        since = timezone.now() - timedelta(seconds=window)
        in_flight = Q(status__in=IN_FLIGHT_STATUSES)
        recent = Q(created_at__gt=since)
        counts = (
            Generation.objects.filter(user=user)
            .filter(in_flight | recent)
            .aggregate(
                in_flight=Count("pk", filter=in_flight),
                recent=Count("pk", filter=recent),
                oldest_recent=Min("created_at", filter=recent),
            )
        )
        oldest = counts["oldest_recent"]
        retry_after = math.ceil((oldest - since).total_seconds()) if oldest else 0
        return cls(counts["recent"], counts["in_flight"], max(0, retry_after))

    def rate_limit_headers(self) -> dict[str, str]:
        """RateLimit-Limit, -Remaining and -Reset for the limit nearest to refusing: the
        submission rate, or the cap on generations in flight when fewer of those remain."""
        rate, cap = settings.API_SUBMISSIONS_PER_MINUTE, settings.MAX_IN_FLIGHT_PER_USER
        by_rate = (rate, max(0, rate - self.recent), self.retry_after)
        by_flight = (cap, max(0, cap - self.in_flight), IN_FLIGHT_RETRY_AFTER)
        limit, remaining, reset = by_flight if by_flight[1] < by_rate[1] else by_rate
        return {
            "RateLimit-Limit": str(limit),
            "RateLimit-Remaining": str(remaining),
            "RateLimit-Reset": str(reset),
            "RateLimit-Policy": (
                f'{rate};w={settings.API_SUBMISSION_RATE_WINDOW}, {cap};name="in-flight"'
            ),
        }


def check_user_limits(user) -> None:
    """The submission rate and the cap on generations in flight, in one indexed query."""
    usage = SubmissionUsage.of(user)
    rate, window = settings.API_SUBMISSIONS_PER_MINUTE, settings.API_SUBMISSION_RATE_WINDOW
    if usage.recent >= rate:
        raise LimitExceeded(
            f"Too many submissions: at most {rate} per {_seconds(window)}. "
            f"Try again in {max(1, usage.retry_after)} s.",
            retry_after=usage.retry_after,
        )
    cap = settings.MAX_IN_FLIGHT_PER_USER
    if usage.in_flight >= cap:
        raise TooManyInFlight(
            f"You have {usage.in_flight} generations in progress (at most {cap}); wait for "
            "one to finish or cancel one.",
            retry_after=IN_FLIGHT_RETRY_AFTER,
        )


def check_key_cap(api_key: ApiKey | None, cost: int) -> None:
    """KeyCreditCapReached when the key's generations this calendar month (UTC), less those
    refunded (failed, canceled), plus `cost` would pass its cap. Exact: it runs under the
    owner's balance lock, which every submission through the key takes first."""
    if api_key is None or api_key.monthly_credit_cap is None:
        return
    now = datetime.now(UTC)
    month_start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    spent = (
        Generation.objects.filter(api_key=api_key, created_at__gte=month_start)
        .exclude(status__in=REFUNDED_STATUSES)
        .aggregate(total=Sum("cost"))["total"]
        or 0
    )
    if spent + cost > api_key.monthly_credit_cap:
        raise KeyCreditCapReached(cap=api_key.monthly_credit_cap, spent=spent, needed=cost)


@contextmanager
def daily_spend(user, cost: int) -> Iterator[None]:
    """Counts `cost` against today's site-wide budget of free spending for the body of the
    block, which creates and charges the generation; DailySpendCapReached once the budget is
    used up. A user who bought credits is not counted. Must run inside the submitting
    transaction, after the user's balance is locked."""
    if has_bought_credits(user):
        yield
        return
    today = timezone.localdate()
    if settings.REDIS_URL:
        with _redis_reservation(today, cost):
            yield
        return
    spent = _add_to_shard(today, user.pk % SPEND_SHARDS, cost)
    if spent > settings.DAILY_CREDIT_SPEND_CAP:
        raise _cap_reached()  # the transaction's rollback takes the increment back
    yield


@contextmanager
def _redis_reservation(today: date, cost: int) -> Iterator[None]:
    key = f"limits:spend:{today.isoformat()}"
    client = _redis(settings.REDIS_URL)
    try:
        spent = client.eval(_INCRBY_IF_EXISTS, 1, key, cost)
        if spent is None:
            client.set(key, _spent_on(today), nx=True, ex=SPEND_KEY_TTL)
            spent = client.eval(_INCRBY_IF_EXISTS, 1, key, cost)
    except (redis.RedisError, OSError) as error:
        raise _unavailable() from error
    if spent is None:  # the counter vanished between two calls: Redis is misbehaving
        raise _unavailable()
    if int(spent) > settings.DAILY_CREDIT_SPEND_CAP:
        _give_back(client, key, cost)
        raise _cap_reached()
    try:
        yield
    except BaseException:
        # Nothing was charged. (A failure of the COMMIT itself keeps the reservation: the
        # budget then errs on the closed side.)
        _give_back(client, key, cost)
        raise


def _add_to_shard(today: date, shard: int, cost: int) -> int:
    """Adds `cost` to one shard of today's counter and returns today's total."""
    counter = DailySpend.objects.filter(day=today, shard=shard)
    if not counter.update(credits=F("credits") + cost):
        try:
            with transaction.atomic():
                DailySpend.objects.create(day=today, shard=shard, credits=cost)
        except IntegrityError:  # a submission of another user on this shard created it first
            counter.update(credits=F("credits") + cost)
    return DailySpend.objects.filter(day=today).aggregate(total=Sum("credits"))["total"]


@functools.cache
def _redis(url: str) -> redis.Redis:
    return redis.Redis.from_url(
        url, socket_timeout=REDIS_TIMEOUT, socket_connect_timeout=REDIS_TIMEOUT
    )


def _spent_on(day: date) -> int:
    """Credits charged that day for generations of users who never bought any, from the ledger:
    the starting value of a counter Redis lost, so a restart does not reset the budget."""
    start = timezone.make_aware(datetime.combine(day, datetime.min.time()))
    purchases = CreditTransaction.objects.filter(
        user=OuterRef("user"), type=TransactionType.PURCHASE
    )
    total = (
        CreditTransaction.objects.filter(
            type=TransactionType.DEDUCTION,
            created_at__gte=start,
            created_at__lt=start + timedelta(days=1),
        )
        .exclude(Exists(purchases))
        .aggregate(total=Sum("amount"))["total"]
    )
    return -(total or 0)


def _give_back(client: redis.Redis, key: str, cost: int) -> None:
    with suppress(redis.RedisError, OSError):  # if this fails, the budget errs on the closed side
        client.decrby(key, cost)


def _cap_reached() -> DailySpendCapReached:
    return DailySpendCapReached(
        "Today's budget for videos made with free credits is used up. Submissions with free "
        "credits reopen at midnight, or buy credits to go on now; nothing was charged.",
        retry_after=_seconds_until_midnight(),
    )


def _seconds_until_midnight() -> int:
    now = timezone.localtime()
    midnight = datetime.combine(now.date() + timedelta(days=1), datetime.min.time())
    return math.ceil((timezone.make_aware(midnight) - now).total_seconds())


def _seconds(window: int) -> str:
    return "minute" if window == 60 else f"{window} seconds"


def _unavailable() -> LimitsUnavailable:
    return LimitsUnavailable(
        "Submissions are paused for a moment: the limits service is unreachable.", retry_after=30
    )
