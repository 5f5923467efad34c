"""`manage.py run_worker`: the task worker to run in production and in `make run`.

It takes every option of django-tasks-db's `db_worker` and adds a heartbeat, the reaper of tasks
lost with dead workers, the scheduler of the periodic jobs the apps register (so nothing depends
on cron) and a time limit on each task (TASK_TIME_LIMIT_SECONDS).
"""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from wan_pwa.background.db_internals import WorkerCommand
from wan_pwa.background.worker import HousekeepingWorker


class Command(WorkerCommand):
    help = (
        "Runs background tasks with a heartbeat and a time limit each, gives back tasks of dead "
        "workers and runs the periodic jobs the apps register once per period across all workers."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        super().add_arguments(parser)
        parser.add_argument(
            "--no-scheduler",
            action="store_false",
            dest="run_scheduler",
            help="Do not schedule periodic jobs from this worker (it still runs them as tasks).",
        )

    def make_worker(self, options: dict[str, Any], **worker_options: Any) -> HousekeepingWorker:
        return HousekeepingWorker(run_scheduler=options["run_scheduler"], **worker_options)
