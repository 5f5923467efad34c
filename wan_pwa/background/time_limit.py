"""A time limit on one task, enforced inside the worker that runs it.

A hung task (a socket without a timeout, a lock never released, an endless loop) keeps its worker
beating, so the reaper never sees it as lost. SIGALRM interrupts the main thread wherever it is,
sleeps and blocking system calls included, by raising `TaskTimeLimitExceeded` there. It derives
from BaseException so that a task's `except Exception` does not swallow it, and it is raised
again every second until the task has let go, for a task that catches everything.

Signals reach only the main thread: under `run_worker --reload` (development), where the worker
loop runs in another thread, there is no limit.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import FrameType

logger = logging.getLogger(__name__)

REPEAT_SECONDS = 1.0


class TaskTimeLimitExceeded(BaseException):
    """Raised inside a task that ran past TASK_TIME_LIMIT_SECONDS."""


@dataclass
class Clock:
    seconds: float
    expired: bool = False


@contextmanager
def time_limit(seconds: float) -> Iterator[Clock]:
    """Interrupts the block after `seconds` (0: never); `clock.expired` tells whether it did."""
    clock = Clock(seconds)
    if seconds <= 0:
        yield clock
        return
    if threading.current_thread() is not threading.main_thread():
        logger.warning("no task time limit outside the main thread (run_worker --reload)")
        yield clock
        return

    def expire(signum: int, frame: FrameType | None) -> None:
        clock.expired = True
        raise TaskTimeLimitExceeded(f"ran past the time limit of {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, expire) or signal.SIG_DFL
    signal.setitimer(signal.ITIMER_REAL, seconds, REPEAT_SECONDS)
    try:
        yield clock
    finally:
        while True:  # the alarm may fire again right here: disarm until it has
            try:
                signal.setitimer(signal.ITIMER_REAL, 0)
                signal.signal(signal.SIGALRM, previous)
                break
            except TaskTimeLimitExceeded:
                continue
