"""`manage.py run_worker`: the task worker to run in production and in `make run`.

It takes every option of django-tasks-db's `db_worker` and adds a heartbeat, the reaper of tasks
lost with dead workers, and the scheduler of the periodic jobs the apps register, so nothing
depends on cron.
"""

from __future__ import annotations

import os
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import CommandError
from django.utils.autoreload import DJANGO_AUTORELOAD_ENV, run_with_reloader
from django_tasks_db.management.commands.db_worker import Command as DbWorkerCommand

from wan_pwa.background.worker import HousekeepingWorker


class Command(DbWorkerCommand):
    help = (
        "Runs background tasks with a heartbeat, gives back tasks of dead workers and runs the "
        "periodic jobs the apps register once per period across all workers."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        super().add_arguments(parser)
        parser.add_argument(
            "--no-scheduler",
            action="store_false",
            dest="run_scheduler",
            help="Do not schedule periodic jobs from this worker (it still runs them as tasks).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        self.configure_logging(options["verbosity"])
        batch, reload = options["batch"], options["reload"]
        queue_names = options["queue_name"].split(",")
        excluded = options["exclude_queues"].split(",") if options["exclude_queues"] else []
        if excluded and "*" not in queue_names:
            raise CommandError("--exclude-queues can only be used with --queue-name=*.")
        worker = HousekeepingWorker(
            run_scheduler=options["run_scheduler"],
            queue_names=queue_names,
            interval=options["interval"],
            batch=batch,
            backend_name=options["backend_name"],
            startup_delay=options["startup_delay"],
            max_tasks=options["max_tasks"],
            worker_id=options["worker_id"],
            excluded_queue_names=excluded,
        )
        if reload and not batch:
            if os.environ.get(DJANGO_AUTORELOAD_ENV) == "true":
                worker.configure_signals()
            run_with_reloader(worker.run)
        else:
            worker.configure_signals()
            worker.run()
