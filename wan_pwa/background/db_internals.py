"""Everything we take from django-tasks-db beyond its public API, in one place.

The public API (`@task`, `.enqueue()`, `TaskResult`, reading `DBTaskResult` rows) has no hooks
around a worker's life or around one task, and no way to give a running task back. Each reach
below says why it is needed; tests/wan_pwa/test_db_internals.py (and, running the loop,
transactional/test_db_internals_loop.py) fails when one of them changes in a new release (read
its failure before upgrading django-tasks or django-tasks-db).
"""

from __future__ import annotations

import logging
import os
from contextlib import AbstractContextManager, nullcontext
from datetime import datetime
from typing import Any
from uuid import UUID

from django.core.management.base import CommandError
from django.db import DatabaseError
from django.db.models import Expression, QuerySet
from django.db.models.functions import Now
from django.utils.autoreload import DJANGO_AUTORELOAD_ENV, run_with_reloader
from django_tasks import TaskResultStatus
from django_tasks_db.management.commands import db_worker
from django_tasks_db.models import DBTaskResult

logger = logging.getLogger(__name__)

# The columns of DBTaskResult written below (the test checks they exist with these types).
WRITTEN_COLUMNS = ("status", "started_at", "finished_at", "exception_class_path", "traceback")


class Worker(db_worker.Worker):
    """django-tasks-db's worker loop with two hooks, for subclasses to override.

    Reach: `db_worker.Worker` is the library's loop (claim the next ready row, `run_task` it in
    the calling thread, sleep); its `run()` and `run_task(db_task_result)` are the only places to
    wrap a worker's life (heartbeat thread) and one task (time limit).
    """

    def around_worker(self) -> AbstractContextManager[object]:
        """Entered before the first claim, left when the loop ends."""
        return nullcontext()

    def around_task(self, task_id: UUID, worker_ids: list[str]) -> AbstractContextManager[object]:
        """Entered after this worker claimed the row, left when the library has recorded the
        outcome; `worker_ids` ends with this worker's id (the claim appended it)."""
        return nullcontext()

    def run(self) -> None:
        with self.around_worker():
            super().run()

    def run_task(self, db_task_result: DBTaskResult) -> None:
        with self.around_task(db_task_result.pk, list(db_task_result.worker_ids)):
            try:
                super().run_task(db_task_result)
            except DatabaseError:
                # The library saves the outcome with update_fields, which raises when the row
                # was deleted while its task ran (an operator's clean-up, a test emptying the
                # database). There is nothing left to record: that must not stop the worker.
                if DBTaskResult.objects.filter(pk=db_task_result.pk).exists():
                    raise
                logger.warning("task %s: its row was deleted while it ran", db_task_result.pk)


class WorkerCommand(db_worker.Command):
    """`db_worker`'s options, running a worker made by `make_worker`.

    Reach: `db_worker.Command.handle` builds the library's own Worker, so we keep its argument
    parser (every documented option) and build ours from the same option names.
    """

    def make_worker(self, options: dict[str, Any], **worker_options: Any) -> Worker:
        return Worker(**worker_options)

    def handle(self, *args: Any, **options: Any) -> None:
        self.configure_logging(options["verbosity"])
        queue_names = options["queue_name"].split(",")
        excluded = options["exclude_queues"].split(",") if options["exclude_queues"] else []
        if excluded and "*" not in queue_names:
            raise CommandError("--exclude-queues can only be used with --queue-name=*.")
        worker = self.make_worker(
            options,
            queue_names=queue_names,
            interval=options["interval"],
            batch=options["batch"],
            backend_name=options["backend_name"],
            startup_delay=options["startup_delay"],
            max_tasks=options["max_tasks"],
            worker_id=options["worker_id"],
            excluded_queue_names=excluded,
        )
        if options["reload"] and not options["batch"]:
            if os.environ.get(DJANGO_AUTORELOAD_ENV) == "true":
                worker.configure_signals()
            run_with_reloader(worker.run)
        else:
            worker.configure_signals()
            worker.run()


# Rows. Reach: the library only ever moves a row forward (READY -> RUNNING -> SUCCESSFUL or
# FAILED) from inside the worker that claimed it. Giving back a task whose worker died or hung
# means writing those columns ourselves, under a row lock, checked against the claim
# (`worker_ids`, which `claim()` appends to) so a row claimed again meanwhile is left alone.


def running_started_before(moment: Expression | datetime) -> QuerySet[DBTaskResult]:
    return DBTaskResult.objects.filter(status=TaskResultStatus.RUNNING, started_at__lt=moment)


def lock_claim(
    task_id: UUID, worker_ids: list[str], statuses: tuple[TaskResultStatus, ...]
) -> DBTaskResult | None:
    """The row, locked, if it is still in one of `statuses` under this very claim; None when
    it finished, was claimed again, or another process holds it (inside a transaction)."""
    return (
        DBTaskResult.objects.select_for_update(skip_locked=True)
        .filter(pk=task_id, status__in=statuses, worker_ids=worker_ids)
        .first()
    )


def make_ready_again(task: DBTaskResult) -> None:
    """Back in the queue, to be claimed like a new task (its claims stay in `worker_ids`)."""
    task.status = TaskResultStatus.READY
    task.started_at = None
    task.finished_at = None
    task.save(update_fields=["status", "started_at", "finished_at"])


def mark_given_up(task: DBTaskResult, exception_class_path: str, why: str) -> None:
    """Failed for good, shown like any failed task (the class path and text in the admin)."""
    task.status = TaskResultStatus.FAILED
    task.finished_at = Now()  # the database's clock, like the heartbeats
    task.exception_class_path = exception_class_path
    task.traceback = why
    task.save(update_fields=["status", "finished_at", "exception_class_path", "traceback"])


def delete_finished_before(cutoff: datetime) -> int:
    deleted, _ = DBTaskResult.objects.filter(
        status__in=[TaskResultStatus.SUCCESSFUL, TaskResultStatus.FAILED], finished_at__lt=cutoff
    ).delete()
    return deleted
