"""django-tasks-db's worker, with a housekeeping thread and a time limit on each task.

The housekeeping thread beats the worker's heartbeat, gives back tasks lost with dead workers,
and schedules the periodic jobs. It has its own database connection (Django's connections are per
thread), so a task that runs for minutes in the main thread does not stop the heartbeat; a
SIGKILL stops both. A task that runs past TASK_TIME_LIMIT_SECONDS is interrupted and given back
like a task lost with a dead worker: it runs again, or fails after TASK_MAX_CLAIMS losses.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from uuid import UUID

from django.conf import settings
from django.db import connection
from django_tasks import TaskResultStatus

from wan_pwa.background import db_internals, heartbeat, scheduler
from wan_pwa.background.time_limit import TaskTimeLimitExceeded, time_limit

logger = logging.getLogger(__name__)

TIME_LIMIT_ERROR = f"{TaskTimeLimitExceeded.__module__}.{TaskTimeLimitExceeded.__qualname__}"


class Housekeeper(threading.Thread):
    def __init__(self, worker_id: str, *, run_scheduler: bool) -> None:
        super().__init__(name=f"housekeeper-{worker_id}", daemon=True)
        self.worker_id = worker_id
        self.run_scheduler = run_scheduler
        self.stopping = threading.Event()

    def run(self) -> None:
        try:
            while not self.stopping.wait(settings.WORKER_HEARTBEAT_INTERVAL):
                self.tick()
        finally:
            connection.close()

    def tick(self) -> None:
        try:
            heartbeat.beat(self.worker_id)
            if reaped := heartbeat.reap_lost_tasks():
                logger.warning("gave back %d task(s) lost with dead workers", reaped)
            if self.run_scheduler:
                scheduler.schedule_due_jobs(self.worker_id)
        except Exception:
            # A database outage must not end the heartbeat for good: try again next tick.
            logger.exception("housekeeping failed; trying again")
            connection.close()

    def stop(self) -> None:
        self.stopping.set()
        self.join(timeout=settings.WORKER_HEARTBEAT_INTERVAL + 5)


class HousekeepingWorker(db_internals.Worker):
    def __init__(self, *, run_scheduler: bool = True, **options: Any) -> None:
        super().__init__(**options)
        self.run_scheduler = run_scheduler

    @contextmanager
    def around_worker(self) -> Iterator[None]:
        housekeeper = Housekeeper(self.worker_id, run_scheduler=self.run_scheduler)
        housekeeper.tick()  # alive (and lost tasks back) before the first claim
        housekeeper.start()
        try:
            yield
        finally:
            housekeeper.stop()
            heartbeat.forget(self.worker_id)

    @contextmanager
    def around_task(self, task_id: UUID, worker_ids: list[str]) -> Iterator[None]:
        limit = settings.TASK_TIME_LIMIT_SECONDS
        stopping: BaseException | None = None
        try:
            with time_limit(limit) as clock:
                yield
        except BaseException as error:
            # Past the limit, whatever surfaced (the interruption, or a database error of the
            # library recording it on a connection cut mid-query) is the timeout's doing.
            if not clock.expired:
                raise
            if not isinstance(error, Exception | TaskTimeLimitExceeded):
                stopping = error  # Ctrl-C or exit: give the task back first, then stop
        if clock.expired:
            self.give_back_timed_out(task_id, worker_ids, limit)
        if stopping is not None:
            raise stopping

    def give_back_timed_out(self, task_id: UUID, worker_ids: list[str], limit: float) -> None:
        # The interruption may have hit mid-query: start again on a fresh connection.
        connection.close()
        cause = f"it ran past the time limit of {limit:g} s on worker {self.worker_id}"
        logger.error("task %s stopped: %s", task_id, cause)
        heartbeat.give_back(
            task_id,
            worker_ids,
            cause=cause,
            exception_class_path=TIME_LIMIT_ERROR,
            # RUNNING, or FAILED when the library recorded the interruption as the outcome.
            statuses=(TaskResultStatus.RUNNING, TaskResultStatus.FAILED),
        )
        heartbeat.fail_job_runs([self.worker_id], "It ran past the time limit.")
