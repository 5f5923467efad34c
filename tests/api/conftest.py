"""The REST API tests' own set-up: fresh rate-limit counters for every test, and the limits set
out of the way. (The throw-away Redis is suite-wide: tests/fixtures/redis_server.py.)"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.core.cache import cache
from pytest_django import Settings


@pytest.fixture(autouse=True)
def fresh_limit_counters(db: None) -> Iterator[None]:
    # The database cache table is not emptied between tests; the limit counters must be.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def limits(settings: Settings) -> Settings:
    settings.API_SUBMISSIONS_PER_MINUTE = 1000
    settings.MAX_IN_FLIGHT_PER_USER = 1000
    settings.DAILY_CREDIT_SPEND_CAP = 100_000
    return settings
