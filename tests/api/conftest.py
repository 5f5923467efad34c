"""The REST API tests' own set-up: fresh rate-limit counters for every test, the limits set out
of the way, and a throw-away Redis."""

from __future__ import annotations

import shutil
import socket
import subprocess
from collections.abc import Iterator

import pytest
from django.core.cache import cache
from pytest_django import Settings

from tests.waiting import wait_until

REDIS = shutil.which("redis-server")


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


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
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

    def answers() -> bool:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
        except OSError:
            return False
        return True

    try:
        wait_until(answers, timeout=5, what="Redis")
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        server.terminate()
        server.wait(timeout=5)
