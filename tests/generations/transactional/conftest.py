"""The live stack of the end-to-end tests of takes: the Replicate simulator over HTTP, the app on
a live server (which also receives the simulator's webhooks) pointed at it, an API client with a
key (tests/generations/takes_helpers.py runs a take to its end and reads its video)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest
from pytest_django import Settings
from pytest_django.live_server_helper import LiveServer

from generations.simulator import ReplicateSimulator
from tests.generations.lifecycle_helpers import configure


@pytest.fixture
def service(
    simulator_factory: Callable[..., ReplicateSimulator],
    live_server: LiveServer,
    settings: Settings,
    api_key: str,
) -> Iterator[tuple[ReplicateSimulator, httpx.Client]]:
    """The simulator, the app pointed at it, and an HTTP client of the API with a key."""
    simulator = simulator_factory()
    configure(settings, base_url=simulator.base_url, webhook_secret=simulator.webhook_secret)
    settings.SITE_URL = live_server.url
    # Closed afterwards: a kept-alive connection would keep a server thread (and its database
    # connection) alive past the test.
    with httpx.Client(
        base_url=f"{live_server.url}/api/v1",
        headers={"Authorization": f"Bearer {api_key}"},
        timeout=30,
    ) as client:
        yield simulator, client
