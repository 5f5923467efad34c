"""Submission limits: a per-user rate (429), generations in flight per user (429) and the
site-wide daily credit budget (503). Each refuses without charging, and recovers."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time

import pytest
from django.core.cache import caches
from django.test import override_settings
from rest_framework.test import APIClient

from credits.selectors import balance_of
from generations.limits import increment
from generations.models import Generation
from tests.api.conftest import T2V
from tests.concurrency.threads import race

pytestmark = pytest.mark.django_db

URL = "/api/v1/generations/"
REDIS = shutil.which("redis-server")


@pytest.fixture(scope="session")
def redis_url():
    """A throw-away Redis on 127.0.0.1, for the REDIS_URL flavour of the shared cache."""
    if REDIS is None:
        pytest.skip("redis-server is not installed")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(  # noqa: S603
        [REDIS, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 5
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            if time.monotonic() > deadline:
                server.kill()
                raise
            time.sleep(0.05)
    yield f"redis://127.0.0.1:{port}/0"
    server.terminate()
    server.wait(timeout=5)


@pytest.fixture(params=["database", "redis"])
def shared_cache(request, settings):
    """Runs a test against each cache the settings can choose."""
    if request.param == "redis":
        url = request.getfixturevalue("redis_url")
        settings.CACHES = {
            "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url}
        }
    caches["default"].clear()
    yield request.param
    caches["default"].clear()


@pytest.fixture
def limits(settings):
    settings.API_SUBMISSIONS_PER_MINUTE = 1000
    settings.MAX_IN_FLIGHT_PER_USER = 1000
    settings.DAILY_CREDIT_SPEND_CAP = 100_000
    return settings


def submit(client: APIClient, **headers):
    return client.post(URL, T2V, format="json", **headers)


def sleep_to_next_second() -> None:
    time.sleep(1 - time.time() % 1 + 0.02)


def test_the_submission_rate_answers_429_then_recovers(api, user, limits, shared_cache):
    limits.API_SUBMISSIONS_PER_MINUTE = 2
    limits.API_SUBMISSION_RATE_WINDOW = 1  # a one-second window, so recovery takes < 1 s
    sleep_to_next_second()
    assert [submit(api).status_code for _ in range(2)] == [201, 201]
    refused = submit(api)
    assert refused.status_code == 429
    assert refused["Retry-After"] == "1"
    assert refused.json()["error"]["code"] == "rate_limited"
    assert Generation.objects.count() == 2 and balance_of(user) == 90
    sleep_to_next_second()
    assert submit(api).status_code == 201


def test_the_rate_is_per_user(api, make_user, limits):
    limits.API_SUBMISSIONS_PER_MINUTE = 1
    submit(api)
    assert submit(api).status_code == 429
    other = APIClient()
    other.force_authenticate(make_user("bob"))
    assert submit(other).status_code == 201


def test_an_idempotent_replay_passes_every_limit(api, limits):
    limits.API_SUBMISSIONS_PER_MINUTE = 1
    limits.MAX_IN_FLIGHT_PER_USER = 1
    first = submit(api, HTTP_IDEMPOTENCY_KEY="same")
    replay = submit(api, HTTP_IDEMPOTENCY_KEY="same")
    assert (first.status_code, replay.status_code) == (201, 200)
    assert submit(api).status_code == 429


def test_generations_in_flight_are_capped_until_one_ends(api, user, limits, shared_cache):
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


def test_the_daily_budget_fails_closed_site_wide(api, user, make_user, limits, shared_cache):
    limits.DAILY_CREDIT_SPEND_CAP = 10
    assert [submit(api).status_code for _ in range(2)] == [201, 201]
    refused = submit(api)
    assert refused.status_code == 503
    error = refused.json()["error"]
    assert error["code"] == "daily_spend_cap_reached"
    assert "nothing was charged" in error["message"]
    assert 0 < int(refused["Retry-After"]) <= 86400
    assert balance_of(user) == 90
    other = APIClient()
    other.force_authenticate(make_user("bob"))
    assert submit(other).status_code == 503


def test_losing_the_cache_does_not_reset_the_daily_budget(api, limits, shared_cache):
    limits.DAILY_CREDIT_SPEND_CAP = 10
    submit(api), submit(api)
    caches["default"].clear()  # e.g. Redis restarted: today's spend is recounted from the ledger
    assert submit(api).status_code == 503
    limits.DAILY_CREDIT_SPEND_CAP = 15  # an operator raises the budget: submissions resume
    assert submit(api).status_code == 201


def test_a_refused_submission_does_not_use_the_budget(api, limits):
    limits.DAILY_CREDIT_SPEND_CAP = 10
    # Valid for the serializer, so it reserves 10 credits, then refused by the shared validation.
    invalid = api.post(URL, {**T2V, "model_key": "i2v-14B", "resolution": "480p"}, format="json")
    assert invalid.status_code == 400
    assert submit(api).status_code == 201


def test_a_zero_budget_stops_all_submissions(api, limits):
    limits.DAILY_CREDIT_SPEND_CAP = 0
    assert submit(api).status_code == 503
    assert not Generation.objects.exists()


def test_an_unreachable_cache_fails_closed(api, limits):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    unreachable = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{port}/0",
        }
    }
    with override_settings(CACHES=unreachable):
        response = submit(api)
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "limits_unavailable"
    assert not Generation.objects.exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_increments_lose_nothing(shared_cache):
    def add_25() -> int:
        for _ in range(25):
            increment("test:counter", 1, timeout=60)
        return 0

    race([add_25] * 8)
    assert caches["default"].get("test:counter") == 200


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_submissions_respect_the_in_flight_cap(user, api_key, limits, shared_cache):
    limits.MAX_IN_FLIGHT_PER_USER = 2

    def submit_once() -> int:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key}")
        return submit(client).status_code

    statuses = race([submit_once] * 6)
    assert sorted(statuses) == [201, 201, 429, 429, 429, 429]
    assert Generation.objects.filter(user=user).count() == 2
    assert balance_of(user) == 90
