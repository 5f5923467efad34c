"""Waiting for something another thread or process does: poll the condition itself, with a
deadline, instead of sleeping a fixed time (too short on a busy machine, too long everywhere
else)."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest


def wait_until(
    condition: Callable[[], object], *, timeout: float, what: str, interval: float = 0.05
) -> float:
    """Seconds it took `condition()` to hold; fails the test naming `what` after `timeout`."""
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > timeout:
            pytest.fail(f"timed out after {timeout:g} s waiting for {what}", pytrace=False)
        time.sleep(interval)
    return time.monotonic() - started
