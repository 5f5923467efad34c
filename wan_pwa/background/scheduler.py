"""Periodic jobs inside the workers, each exactly once per period however many workers run.

Each app registers its jobs (a function and a default period in seconds) from its
`AppConfig.ready()` with `register_job`; PERIODIC_JOB_PERIODS in settings overrides periods (0
turns a job off). Periods are aligned to the epoch, so every worker computes the same slot; the
first worker to insert the (job, slot) row enqueues the run as a task in the same transaction,
the others hit the unique constraint and move on. A job whose worker dies is reaped and re-run
like any task (jobs are idempotent); a slot that passed while no worker ran is skipped, not
caught up.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django_tasks import TaskContext, task

from wan_pwa.background.models import PeriodicJobRun
from wan_pwa.registry import Registry

logger = logging.getLogger(__name__)
RESULT_MAX_LENGTH = 2000


class JobFailed(Exception):
    """Raised by a job that ran but found something wrong (the run is shown as failed)."""


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    call: Callable[[], object]  # takes no argument, returns a summary (or None: "done")
    every: int  # seconds; 0 turns the job off

    def slot(self, now: datetime) -> datetime:
        """The start of the period `now` falls in."""
        seconds = int(now.timestamp()) // self.every * self.every
        return datetime.fromtimestamp(seconds, tz=UTC)


JOBS: Registry[PeriodicJob] = Registry("periodic job")


def register_job(name: str, call: Callable[[], object], *, every: int) -> None:
    """Called from an app's `ready()`: runs `call` once every `every` seconds (by default)."""
    JOBS.register(name, PeriodicJob(name, call, every))


def periodic_jobs() -> list[PeriodicJob]:
    """The registered jobs that are on, with the periods PERIODIC_JOB_PERIODS overrides."""
    periods: dict[str, int] = settings.PERIODIC_JOB_PERIODS
    jobs = [replace(job, every=periods.get(job.name, job.every)) for job in JOBS]
    return [job for job in jobs if job.every > 0]


def schedule_due_jobs(worker_id: str, now: datetime | None = None) -> list[str]:
    """Enqueues each job whose current period has no run yet; returns the ones this worker
    scheduled."""
    now = now or timezone.now()
    scheduled = []
    for job in periodic_jobs():
        slot = job.slot(now)
        if PeriodicJobRun.objects.filter(job=job.name, slot=slot).exists():
            continue  # the common case, without an IntegrityError in the database log
        try:
            with transaction.atomic():
                run = PeriodicJobRun.objects.create(job=job.name, slot=slot, scheduled_by=worker_id)
                run_periodic_job.enqueue(run.pk)
        except IntegrityError:
            continue  # another worker took this slot
        scheduled.append(job.name)
    return scheduled


# Below every generation task: housekeeping never delays a user's video.
PERIODIC_JOB_PRIORITY = -50


@task(priority=PERIODIC_JOB_PRIORITY, takes_context=True)
def run_periodic_job(context: TaskContext, run_id: int) -> str:
    """The one task of the scheduler: running a periodic job in a worker, like any other task
    (so a job lost with its worker is reaped and re-run)."""
    return run_job(run_id, worker_id=context.task_result.worker_ids[-1])


def run_job(run_id: int, worker_id: str) -> str:
    """Runs one scheduled job and records its outcome, duration and result on its row."""
    run = PeriodicJobRun.objects.get(pk=run_id)
    if run.outcome == PeriodicJobRun.Outcome.SUCCEEDED:
        return run.result  # a re-run of a task whose worker died after the job finished
    _record(
        run, outcome=PeriodicJobRun.Outcome.RUNNING, run_by=worker_id, started_at=timezone.now()
    )
    try:
        result = str(JOBS.get(run.job).call() or "done")
        outcome = PeriodicJobRun.Outcome.SUCCEEDED
    except JobFailed as problem:
        result, outcome = str(problem), PeriodicJobRun.Outcome.FAILED
    except Exception as error:
        logger.exception("periodic job %s failed", run.job)
        result = "".join(traceback.format_exception_only(error)).strip()
        outcome = PeriodicJobRun.Outcome.FAILED
    _record(run, outcome=outcome, result=result[:RESULT_MAX_LENGTH], finished_at=timezone.now())
    logger.info("periodic job %s (%s): %s", run.job, outcome, result)
    return result


def _record(run: PeriodicJobRun, **fields: object) -> None:
    for name, value in fields.items():
        setattr(run, name, value)
    run.save(update_fields=list(fields))
