"""django-tasks-db's worker, with a housekeeping thread: it beats the worker's heartbeat, gives
back tasks lost with dead workers, and schedules the periodic jobs.

The thread has its own database connection (Django's connections are per thread), so a task
that runs for minutes in the main thread does not stop the heartbeat; a SIGKILL stops both.
"""

from __future__ import annotations

import logging
import threading

from django.conf import settings
from django.db import connection
from django_tasks_db.management.commands.db_worker import Worker

from wan_pwa.background import heartbeat, scheduler

logger = logging.getLogger(__name__)


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


class HousekeepingWorker(Worker):
    def __init__(self, *, run_scheduler: bool = True, **options) -> None:
        super().__init__(**options)
        self.run_scheduler = run_scheduler

    def run(self) -> None:
        housekeeper = Housekeeper(self.worker_id, run_scheduler=self.run_scheduler)
        housekeeper.tick()  # alive (and lost tasks back) before the first claim
        housekeeper.start()
        try:
            super().run()
        finally:
            housekeeper.stop()
            heartbeat.forget(self.worker_id)
