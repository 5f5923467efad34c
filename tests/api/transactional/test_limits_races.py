"""Submission limits under concurrent requests, on real connections (each thread its own): the
in-flight cap and, with Redis, the site-wide daily budget hold exactly however requests race."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import redis

from credits.selectors import balance_of
from generations.models import Generation
from tests.api.test_limits import spent_keys, submit
from tests.concurrency.threads import race
from tests.factories import api_client
from wan_pwa.accounts.models import User


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_submissions_respect_the_in_flight_cap(user, api_key, limits):
    limits.MAX_IN_FLIGHT_PER_USER = 2

    def submit_once() -> int:
        client = api_client(key=api_key)
        return submit(client).status_code

    statuses = race([submit_once] * 6)
    assert sorted(statuses) == [201, 201, 429, 429, 429, 429]
    assert Generation.objects.filter(user=user).count() == 2
    assert balance_of(user) == 90


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_with_redis_concurrent_submissions_of_many_users_fit_the_daily_budget_exactly(
    make_user, limits, redis_url
):
    # Exact with Redis; the database's sharded counter may let a few through (limits.py).
    limits.REDIS_URL = redis_url
    redis.Redis.from_url(redis_url).flushdb()
    limits.DAILY_CREDIT_SPEND_CAP = 25  # five 1.3B generations of 5 credits

    def submit_as(user: User) -> Callable[[], int]:
        def run() -> int:
            client = api_client(user=user)
            return submit(client).status_code

        return run

    users = [make_user(f"user{n}") for n in range(10)]  # sign-ups are not what races here
    statuses = race([submit_as(user) for user in users])
    assert sorted(statuses) == [201] * 5 + [503] * 5
    assert Generation.objects.count() == 5
    assert int(redis.Redis.from_url(redis_url).get(spent_keys(redis_url)[0]) or 0) == 25
