"""Submission limits: a per-user rate (429), generations in flight per user (429) and the
site-wide daily credit budget (503), with and without Redis. Each refuses without charging,
and recovers."""

from __future__ import annotations

import socket
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import pytest
import redis
from django.db.models import F
from pytest_django import Settings
from rest_framework.test import APIClient

from credits.actions import add_credits
from credits.models import TransactionType
from credits.selectors import balance_of
from generations.models import DailySpend, Generation
from tests.api.payloads import T2V
from tests.factories import api_client

if TYPE_CHECKING:  # what the API client answers, named in the DRF stubs only
    from rest_framework.response import _MonkeyPatchedResponse as ApiResponse

pytestmark = pytest.mark.django_db

URL = "/api/v1/generations/"


@pytest.fixture(params=["database", "redis"])
def spend_counter(request: pytest.FixtureRequest, settings: Settings) -> str:
    """Runs a test against each home the daily budget can have: the database, or Redis when
    REDIS_URL is set."""
    settings.REDIS_URL = ""
    if request.param == "redis":
        settings.REDIS_URL = request.getfixturevalue("redis_url")
        redis.Redis.from_url(settings.REDIS_URL).flushdb()
    return request.param


def lose_the_counter(kind: str, redis_url: str) -> None:
    if kind == "redis":
        redis.Redis.from_url(redis_url).flushdb()  # e.g. Redis restarted without persistence


def submit(client: APIClient, **headers: Any) -> ApiResponse:
    return client.post(URL, T2V, format="json", **headers)


def test_the_submission_rate_answers_429_then_recovers_after_retry_after(api, user, limits):
    limits.API_SUBMISSIONS_PER_MINUTE = 2
    limits.API_SUBMISSION_RATE_WINDOW = 1  # a one-second window, so recovery takes a second
    assert [submit(api).status_code for _ in range(2)] == [201, 201]
    refused = submit(api)
    assert refused.status_code == 429
    assert refused["Retry-After"] == "1"
    retry_after = int(refused["Retry-After"])
    assert refused.json()["error"]["code"] == "rate_limited"
    assert Generation.objects.count() == 2 and balance_of(user) == 90
    # Retry-After seconds later (the submissions moved back in time rather than the test
    # waiting): the window has room again.
    Generation.objects.update(created_at=F("created_at") - timedelta(seconds=retry_after))
    assert submit(api).status_code == 201


def test_the_rate_is_per_user(api, make_user, limits):
    limits.API_SUBMISSIONS_PER_MINUTE = 1
    submit(api)
    assert submit(api).status_code == 429
    other = api_client(user=make_user("bob"))
    assert submit(other).status_code == 201


def test_an_idempotent_replay_passes_every_limit(api, limits):
    limits.API_SUBMISSIONS_PER_MINUTE = 1
    limits.MAX_IN_FLIGHT_PER_USER = 1
    first = submit(api, HTTP_IDEMPOTENCY_KEY="same")
    replay = submit(api, HTTP_IDEMPOTENCY_KEY="same")
    assert (first.status_code, replay.status_code) == (201, 200)
    assert submit(api).status_code == 429


def test_generations_in_flight_are_capped_until_one_ends(api, user, limits):
    limits.MAX_IN_FLIGHT_PER_USER = 2
    first, second = submit(api).json(), submit(api).json()
    refused = submit(api)
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "too_many_in_flight"
    assert int(refused["Retry-After"]) > 0
    assert Generation.objects.count() == 2
    api.post(f"{URL}{first['id']}/cancel/")
    assert submit(api).status_code == 201
    assert second["status"] == "queued"


def test_a_retry_counts_as_a_submission(api, limits):
    limits.MAX_IN_FLIGHT_PER_USER = 1
    first = submit(api).json()
    api.post(f"{URL}{first['id']}/cancel/")
    submit(api)
    response = api.post(f"{URL}{first['id']}/retry/")
    assert response.status_code == 429


def test_the_daily_budget_fails_closed_site_wide(api, user, make_user, limits, spend_counter):
    limits.DAILY_CREDIT_SPEND_CAP = 10
    assert [submit(api).status_code for _ in range(2)] == [201, 201]
    refused = submit(api)
    assert refused.status_code == 503
    error = refused.json()["error"]
    assert error["code"] == "daily_spend_cap_reached"
    assert "nothing was charged" in error["message"]
    assert 0 < int(refused["Retry-After"]) <= 86400
    assert balance_of(user) == 90
    other = api_client(user=make_user("bob"))
    assert submit(other).status_code == 503


def test_free_users_spending_the_budget_never_stops_a_paying_user(
    api, make_user, limits, spend_counter
):
    limits.DAILY_CREDIT_SPEND_CAP = 10
    payer = make_user("payer")
    add_credits(payer, 500, type=TransactionType.PURCHASE, description="a pack")
    paying = api_client(user=payer)
    assert submit(paying).status_code == 201  # not counted: the budget is for free credits
    assert [submit(api).status_code for _ in range(3)] == [201, 201, 503]
    # The free users spent the day; the paying user still submits, and is still not counted.
    assert [submit(paying).status_code for _ in range(3)] == [201, 201, 201]
    lose_the_counter(spend_counter, limits.REDIS_URL)  # recounted from free users' spending
    assert submit(api).status_code == 503
    assert submit(paying).status_code == 201


def test_losing_the_counter_does_not_reset_the_daily_budget(api, limits, spend_counter):
    limits.DAILY_CREDIT_SPEND_CAP = 10
    submit(api), submit(api)
    lose_the_counter(spend_counter, limits.REDIS_URL)  # recounted from the ledger
    assert submit(api).status_code == 503
    limits.DAILY_CREDIT_SPEND_CAP = 15  # an operator raises the budget: submissions resume
    assert submit(api).status_code == 201


def test_a_refused_submission_does_not_use_the_budget(api, user, limits, spend_counter):
    limits.DAILY_CREDIT_SPEND_CAP = 10
    invalid = api.post(URL, {**T2V, "model_key": "i2v-14B", "resolution": "480p"}, format="json")
    assert invalid.status_code == 400
    poor = api_client(user=user)
    limits.MAX_IN_FLIGHT_PER_USER = 0
    assert submit(poor).status_code == 429  # refused by a user limit: nothing counted
    limits.MAX_IN_FLIGHT_PER_USER = 1000
    assert submit(api).status_code == 201
    assert submit(api).status_code == 201


def test_a_zero_budget_stops_all_submissions(api, limits, spend_counter):
    limits.DAILY_CREDIT_SPEND_CAP = 0
    assert submit(api).status_code == 503
    assert not Generation.objects.exists()


def test_an_unreachable_redis_fails_closed(api, limits):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    limits.REDIS_URL = f"redis://127.0.0.1:{port}/0"
    response = submit(api)
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "limits_unavailable"
    assert not Generation.objects.exists()


def spent_keys(redis_url: str) -> list[bytes | str]:
    return redis.Redis.from_url(redis_url).keys("limits:spend:*")


def test_without_redis_the_budget_is_counted_in_shards_and_refusals_take_nothing(
    api, make_user, limits
):
    limits.REDIS_URL = ""
    limits.DAILY_CREDIT_SPEND_CAP = 10
    other = api_client(user=make_user("bob"))
    assert [submit(api).status_code, submit(other).status_code] == [201, 201]
    assert submit(other).status_code == 503
    assert DailySpend.objects.count() == 2  # one shard per user here
    assert sum(DailySpend.objects.values_list("credits", flat=True)) == 10
