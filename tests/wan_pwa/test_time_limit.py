"""The time limit itself, in this (main) thread: it interrupts what a hung task would be doing,
again if the task swallowed it, and leaves no alarm behind."""

from __future__ import annotations

import signal
import threading
import time

import pytest

from wan_pwa.background.time_limit import TaskTimeLimitExceeded, time_limit


def block(seconds: float, *, swallow: int = 0) -> float:
    """Sleeps up to `seconds` in short system calls, swallowing the first `swallow`
    interruptions; returns how long it was allowed to run."""
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        try:
            time.sleep(0.02)
        except TaskTimeLimitExceeded:
            if swallow == 0:
                raise
            swallow -= 1
    return time.monotonic() - started


def test_a_blocking_call_is_interrupted_at_the_limit_and_no_alarm_is_left():
    handler_before = signal.getsignal(signal.SIGALRM)
    started = time.monotonic()
    with (
        pytest.raises(TaskTimeLimitExceeded, match=r"time limit of 0\.2 s"),
        time_limit(0.2) as clock,
    ):
        block(10)
    assert clock.expired
    assert 0.2 <= time.monotonic() - started < 1
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
    assert signal.getsignal(signal.SIGALRM) == handler_before


def test_a_task_that_swallows_the_interruption_is_interrupted_again():
    started = time.monotonic()
    with pytest.raises(TaskTimeLimitExceeded), time_limit(0.1):
        block(10, swallow=1)
    assert 1 <= time.monotonic() - started < 2  # the repeat comes a second later


def test_a_task_within_its_limit_is_left_alone():
    with time_limit(1) as clock:
        assert block(0.1) >= 0.1
    assert not clock.expired
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


@pytest.mark.parametrize("where", ["no limit", "another thread"])
def test_without_a_limit_or_outside_the_main_thread_nothing_is_armed(where: str):
    outcome: list[bool] = []

    def run() -> None:
        with time_limit(0 if where == "no limit" else 0.05) as clock:
            block(0.2)
        outcome.append(clock.expired)

    if where == "no limit":
        run()
    else:
        thread = threading.Thread(target=run)
        thread.start()
        thread.join(timeout=5)
    assert outcome == [False]
