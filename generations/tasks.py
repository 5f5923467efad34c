"""Background work for generations, run by `manage.py run_worker`.

The tasks are thin: each hands over to the module that does the work. Those modules are
imported inside the task bodies because they import `generations.actions`, which enqueues
these tasks.
"""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from django_tasks import task
from django_tasks.base import Task

from wan_pwa.log_context import names_generation

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


@task(priority=SUBMIT_PRIORITY)
@names_generation(position=0)
def submit_prediction(generation_id: int) -> None:
    """Creates the Replicate prediction for a queued generation.

    Idempotent: an attempt does nothing once the generation has a prediction or has ended, and a
    second attempt first looks for the prediction an interrupted one may have created."""
    from generations.replicate import submission

    submission.submit(generation_id)


@task(priority=WATCHDOG_PRIORITY)
@names_generation(position=0)
def watch_generation(generation_id: int, check: int = 1) -> None:
    """Asks Replicate about a generation its webhooks have not finished yet.

    Idempotent: a check applies what Replicate says (statuses only move forward, a refund is
    given at most once); a re-run may start a second chain of checks, which ends with the
    generation like the first."""
    from generations.replicate import watchdog

    watchdog.scheduled_check(generation_id, check)


@task(priority=COPY_PRIORITY)
@names_generation(position=0)
def copy_output(generation_id: int, attempt: int = 1) -> None:
    """Copies a succeeded prediction's video into our storage and makes its poster.

    Idempotent: it does nothing once the generation has ended, and store_output keeps only the
    first copy (a later one's files are deleted)."""
    from generations.replicate import output

    output.copy_output(generation_id, attempt)


@task(priority=CANCEL_PRIORITY)
def cancel_prediction(prediction_id: str, attempt: int = 1) -> None:
    """Tells Replicate to stop a prediction we no longer want (and will not pay for).

    Idempotent: canceling an ended prediction changes nothing at Replicate."""
    from generations.replicate import submission

    submission.cancel_at_replicate(prediction_id, attempt)


@task(priority=NOTIFY_PRIORITY)
def send_notifications(user_id: int) -> None:
    """Tells the user, in one message per channel, about their generations that ended since the
    last message (enqueued by each ending, after the batching window).

    Idempotent: each notice is claimed once, so a later run of the same batch sends nothing."""
    from generations.notifications import delivery

    delivery.send_pending(user_id)
