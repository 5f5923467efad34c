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
from datetime import date, datetime, timedelta

import redis
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, Exists, F, Min, OuterRef, Q, Sum
from django.utils import timezone

from credits.models import CreditTransaction, TransactionType
from credits.selectors import has_bought_credits
from generations.models import IN_FLIGHT_STATUSES, DailySpend, Generation
from wan_pwa.errors import DomainError

IN_FLIGHT_RETRY_AFTER = 15  # a generation takes a minute or more; check back a little later
SPEND_SHARDS = 16
REDIS_TIMEOUT = 2  # seconds; a limit that cannot be read in time refuses (fail closed)
SPEND_KEY_TTL = 2 * 86400

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


def check_user_limits(user) -> None:
    """The submission rate and the cap on generations in flight, in one indexed query."""
    window = settings.API_SUBMISSION_RATE_WINDOW
    now = timezone.now()
    since = now - timedelta(seconds=window)
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
    rate = settings.API_SUBMISSIONS_PER_MINUTE
    if counts["recent"] >= rate:
        retry_after = math.ceil((counts["oldest_recent"] - since).total_seconds())
        raise LimitExceeded(
            f"Too many submissions: at most {rate} per {_seconds(window)}. "
            f"Try again in {max(1, retry_after)} s.",
            retry_after=retry_after,
        )
    cap = settings.MAX_IN_FLIGHT_PER_USER
    if counts["in_flight"] >= cap:
        raise TooManyInFlight(
            f"You have {counts['in_flight']} generations in progress (at most {cap}); wait for "
            "one to finish or cancel one.",
            retry_after=IN_FLIGHT_RETRY_AFTER,
        )


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
