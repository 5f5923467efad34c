"""The Python SDK when the API cannot be reached or does not answer: retried, then typed. No
server of ours is needed: a closed port, and a listener that never says a word."""

from __future__ import annotations

import pytest
from wanpwa import APIConnectionError, APITimeoutError, WanPWA

from tests.fixtures.local_servers import Listener, free_port


def test_connection_errors_and_timeouts_are_retried_then_typed(listener: Listener):
    closed = f"http://127.0.0.1:{free_port()}"
    client = WanPWA(api_key="wan_x", base_url=closed, max_retries=1)
    with client, pytest.raises(APIConnectionError):
        client.credits.get()

    silent = f"http://127.0.0.1:{listener.port}"
    client = WanPWA(api_key="wan_x", base_url=silent, max_retries=1, timeout=0.2)
    with client, pytest.raises(APITimeoutError):
        client.credits.get()
    assert listener.accepted == 2  # the first attempt and its retry
