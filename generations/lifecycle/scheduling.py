"""When background work runs: the tasks' priorities and the delays between tries.

Imports nothing of ours, so every module that defines or enqueues a task can use it.
"""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from django_tasks.base import Task

# django-tasks-db takes the highest priority first and, among equals, a due delayed task before
# an immediate one: without these, fresh submissions would wait behind every due watchdog check.
SUBMIT_PRIORITY = 30
COPY_PRIORITY = 20  # the video is done at Replicate; the user is waiting for it
CANCEL_PRIORITY = 10
WATCHDOG_PRIORITY = -10
NOTIFY_PRIORITY = -20  # after all generation work: a notification never delays a generation


def retry_delay(attempt: int, *, base: float, cap: float, at_least: float | None = None) -> float:
    """Doubling delay before try number `attempt + 1`, at least `at_least`, at most `cap`."""
    delay = base * 2 ** max(0, attempt - 1)
    if at_least is not None:
        delay = max(delay, at_least)
    return min(delay, cap)


def enqueue_later(task_to_run: Task, delay_seconds: float, *args) -> None:
    """Enqueues in the caller's transaction, to run once the delay has passed."""
    if delay_seconds <= 0:
        task_to_run.enqueue(*args)
        return
    run_after = timezone.now() + timedelta(seconds=delay_seconds)
    task_to_run.using(run_after=run_after).enqueue(*args)
