"""The REST API tests' own set-up: fresh rate-limit counters for every test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def fresh_limit_counters(db: None) -> Iterator[None]:
    # The database cache table is not emptied between tests; the limit counters must be.
    cache.clear()
    yield
    cache.clear()
