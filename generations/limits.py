"""Submission limits: a per-user rate, a cap on generations in flight per user, and a site-wide
daily credit-spend cap.

Counters live in the shared cache (Redis when REDIS_URL is set, the database cache otherwise), so
every gunicorn worker sees the same numbers. When the cache cannot be reached, submissions are
refused (fail closed) rather than let through unlimited.
"""

from __future__ import annotations

import math
import secrets
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.db import DatabaseCache
from django.db import DatabaseError, connections, router, transaction
from django.db.models import Sum
from django.utils import timezone
from redis.exceptions import RedisError

from credits.models import CreditTransaction, TransactionType
from generations import catalog
from generations.actions import GenerationParams, submit_generation
from generations.models import Generation

CACHE_ERRORS = (DatabaseError, RedisError, OSError)
# How long a user's submissions wait for each other before the late one is told to retry.
LOCK_WAIT_SECONDS = 5.0
LOCK_TIMEOUT_SECONDS = 30  # a crashed worker's lock expires on its own
IN_FLIGHT_RETRY_AFTER = 15  # a generation takes a minute or more; check back a little later


class LimitExceeded(Exception):
    """A submission refused by a limit, with the seconds after which it may succeed."""

    code = "rate_limited"

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after = max(1, int(retry_after))


class TooManyInFlight(LimitExceeded):
    code = "too_many_in_flight"


class DailySpendCapReached(LimitExceeded):
    """The whole site spent its credits for the day: fails closed until midnight."""

    code = "daily_spend_cap_reached"


class LimitsUnavailable(LimitExceeded):
    code = "limits_unavailable"


def increment(key: str, delta: int, *, timeout: int, initial: Callable[[], int] = int) -> int:
    """Atomically adds `delta` to a cache counter (created from `initial()` if missing) and
    returns the new value.

    Redis increments atomically. The database cache's incr() is a read then a write, so two workers
    could lose an update; there the row is locked for the read-modify-write.
    """
    backend = caches["default"]  # not the `cache` proxy, which hides the backend's class
    if backend.get(key) is None:
        backend.add(key, initial(), timeout)  # atomic: a concurrent add of the same key loses
    if not isinstance(backend, DatabaseCache):
        try:
            return backend.incr(key, delta)
        except ValueError:  # expired between the add and the incr
            backend.add(key, initial(), timeout)
            return backend.incr(key, delta)
    db = router.db_for_write(backend.cache_model_class)
    connection = connections[db]
    with transaction.atomic(using=db), connection.cursor() as cursor:
        table = connection.ops.quote_name(backend._table)
        cursor.execute(
            f"SELECT cache_key FROM {table} WHERE cache_key = %s"  # noqa: S608 (quoted name)
            + (" FOR UPDATE" if connection.features.has_select_for_update else ""),
            [backend.make_and_validate_key(key)],
        )
        value = backend.get(key)
        if value is None:  # expired in between; start over from the initial value
            value = initial()
        value += delta
        backend.set(key, value, timeout)
    return value


def check_submission_rate(user) -> None:
    """Counts one submission attempt; LimitExceeded beyond API_SUBMISSIONS_PER_MINUTE."""
    window = settings.API_SUBMISSION_RATE_WINDOW
    now = time.time()
    window_index = int(now // window)
    try:
        count = increment(f"limits:rate:{user.pk}:{window_index}", 1, timeout=window * 2)
    except CACHE_ERRORS as error:
        raise _unavailable() from error
    if count > settings.API_SUBMISSIONS_PER_MINUTE:
        retry_after = math.ceil((window_index + 1) * window - now)
        raise LimitExceeded(
            f"Too many submissions: at most {settings.API_SUBMISSIONS_PER_MINUTE} per "
            f"{_seconds(window)}. Try again in {retry_after} s.",
            retry_after,
        )


@contextmanager
def user_submission_lock(user) -> Iterator[None]:
    """Serializes one user's submissions across workers, so the in-flight count and the
    idempotency lookup inside cannot race with a concurrent request."""
    key = f"limits:lock:{user.pk}"
    token = secrets.token_hex(8)
    deadline = time.monotonic() + LOCK_WAIT_SECONDS
    try:
        while not cache.add(key, token, LOCK_TIMEOUT_SECONDS):
            if time.monotonic() > deadline:
                raise LimitExceeded("Another submission of yours is still being processed.", 1)
            time.sleep(0.05)
    except CACHE_ERRORS as error:
        raise _unavailable() from error
    try:
        yield
    finally:
        with suppress(*CACHE_ERRORS):  # if this fails, it expires after LOCK_TIMEOUT_SECONDS
            if cache.get(key) == token:  # never release a lock that expired and was re-taken
                cache.delete(key)


def check_in_flight(user) -> None:
    cap = settings.MAX_IN_FLIGHT_PER_USER
    in_flight = Generation.objects.owned_by(user).in_flight().count()
    if in_flight >= cap:
        raise TooManyInFlight(
            f"You have {in_flight} generations in progress (at most {cap}); wait for one to "
            "finish or cancel one.",
            IN_FLIGHT_RETRY_AFTER,
        )


@contextmanager
def daily_spend_reservation(cost: int) -> Iterator[None]:
    """Reserves `cost` credits of today's site-wide budget; gives them back if the body raises
    (nothing was charged then). DailySpendCapReached once the budget is used up."""
    today = timezone.localdate()
    key = f"limits:spend:{today.isoformat()}"
    try:
        spent = increment(key, cost, timeout=2 * 86400, initial=lambda: _spent_on(today))
    except CACHE_ERRORS as error:
        raise _unavailable() from error
    if spent > settings.DAILY_CREDIT_SPEND_CAP:
        _give_back(key, cost)
        raise DailySpendCapReached(
            "The service has reached its generation budget for today. Submissions reopen at "
            "midnight; nothing was charged.",
            _seconds_until_midnight(),
        )
    try:
        yield
    except BaseException:
        _give_back(key, cost)
        raise


def submit_within_limits(
    user,
    *,
    cost: int | None,
    idempotency_key: str | None,
    submit: Callable[[], Generation],
) -> tuple[Generation, bool]:
    """Runs `submit` under every limit; returns (generation, created).

    A request repeating an idempotency key gets the first generation back (created False) without
    counting against any limit. `cost` is None when the request names no valid model, in which
    case `submit` raises its validation error without reserving anything.
    """
    if replay := _replay(user, idempotency_key):
        return replay, False
    check_submission_rate(user)
    with user_submission_lock(user):
        if replay := _replay(user, idempotency_key):  # a concurrent request with the key won
            return replay, False
        check_in_flight(user)
        if cost is None:
            return submit(), True
        with daily_spend_reservation(cost):
            return submit(), True


def submit_generation_within_limits(
    user, params: GenerationParams, *, idempotency_key: str | None
) -> tuple[Generation, bool]:
    """`submit_generation` under every limit: the create page and the API's create."""
    return submit_within_limits(
        user,
        cost=catalog.cost_or_none(params.model_key, params.resolution),
        idempotency_key=idempotency_key,
        submit=lambda: submit_generation(user, params, idempotency_key=idempotency_key),
    )


def _replay(user, idempotency_key: str | None) -> Generation | None:
    if not idempotency_key:
        return None
    return Generation.objects.filter(user=user, idempotency_key=idempotency_key).first()


def _spent_on(day) -> int:
    """Net credits charged for generations that day, from the ledger: the counter's starting
    value, so losing the cache does not reset the budget."""
    start = timezone.make_aware(datetime.combine(day, datetime.min.time()))
    total = CreditTransaction.objects.filter(
        type=TransactionType.DEDUCTION,
        created_at__gte=start,
        created_at__lt=start + timedelta(days=1),
    ).aggregate(total=Sum("amount"))["total"]
    return -(total or 0)


def _give_back(key: str, cost: int) -> None:
    with suppress(*CACHE_ERRORS):  # if this fails, the budget errs on the closed side
        increment(key, -cost, timeout=2 * 86400)


def _seconds_until_midnight() -> int:
    now = timezone.localtime()
    midnight = datetime.combine(now.date() + timedelta(days=1), datetime.min.time())
    return math.ceil((timezone.make_aware(midnight) - now).total_seconds())


def _seconds(window: int) -> str:
    return "minute" if window == 60 else f"{window} seconds"


def _unavailable() -> LimitsUnavailable:
    return LimitsUnavailable(
        "Submissions are paused for a moment: the limits service is unreachable.", 30
    )
