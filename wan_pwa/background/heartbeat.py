"""Worker heartbeats and the reaper: a task row left RUNNING by a worker that stopped beating
comes back.

Times are the database's (`Now()`), so workers on hosts with skewed clocks agree on who is dead.
A lost task is made READY again and re-run, which is safe because every task is idempotent; one
that has already been lost TASK_MAX_CLAIMS times (it may be what kills its workers) is marked
FAILED instead, and the periodic jobs (reconcile) settle whatever it left undone. A task stopped
at its time limit in a live worker (worker.py) is given back the same way.
"""

from __future__ import annotations

import logging
import os
import socket
from datetime import timedelta
from uuid import UUID

from django.conf import settings
from django.db import transaction
from django.db.models.functions import Now
from django_tasks import TaskResultStatus

from wan_pwa.background import db_internals
from wan_pwa.background.models import PeriodicJobRun, WorkerHeartbeat

logger = logging.getLogger(__name__)

LOST_WORKER_ERROR = "wan_pwa.background.heartbeat.WorkerLost"


def lease() -> timedelta:
    return timedelta(seconds=settings.WORKER_LEASE)


def beat(worker_id: str) -> None:
    """Says this worker is alive (creating its row on the first beat, or after a reaper that
    thought it dead removed it)."""
    updated = WorkerHeartbeat.objects.filter(worker_id=worker_id).update(last_seen=Now())
    if not updated:
        WorkerHeartbeat.objects.update_or_create(
            worker_id=worker_id,
            defaults={"last_seen": Now()},
            create_defaults={
                "hostname": socket.gethostname()[:255],
                "pid": os.getpid(),
                "started_at": Now(),
                "last_seen": Now(),
            },
        )


def forget(worker_id: str) -> None:
    """A worker stopping cleanly removes its heartbeat (its current task has finished)."""
    WorkerHeartbeat.objects.filter(worker_id=worker_id).delete()


def live_workers() -> set[str]:
    return set(
        WorkerHeartbeat.objects.filter(last_seen__gte=Now() - lease()).values_list(
            "worker_id", flat=True
        )
    )


def reap_lost_tasks() -> int:
    """Gives back every RUNNING task whose worker is not alive; returns how many."""
    live = live_workers()
    # Started before the lease began: a worker always beats before it claims a task.
    suspects = db_internals.running_started_before(Now() - lease())
    reaped = 0
    for suspect in suspects.only("id", "worker_ids"):
        worker_ids = suspect.worker_ids
        if worker_ids and worker_ids[-1] in live:
            continue
        lost_with = worker_ids[-1] if worker_ids else "?"
        if give_back(suspect.pk, worker_ids, cause=f"its worker {lost_with} died"):
            reaped += 1
    _forget_dead_workers(live)
    return reaped


def give_back(
    task_id: UUID,
    worker_ids: list[str],
    *,
    cause: str,
    exception_class_path: str = LOST_WORKER_ERROR,
    statuses: tuple[TaskResultStatus, ...] = (TaskResultStatus.RUNNING,),
) -> bool:
    """What happens to a lost task, whether its worker died or it hung in a live one: it runs
    again, unless it has been lost TASK_MAX_CLAIMS times (it may be what kills or hangs its
    workers), when it fails. False when the claim is gone (finished, or given back meanwhile)."""
    with transaction.atomic():
        task = db_internals.lock_claim(task_id, worker_ids, statuses)
        if task is None:
            return False
        if len(worker_ids) >= settings.TASK_MAX_CLAIMS:
            times = f"{len(worker_ids)} time{'s' if len(worker_ids) > 1 else ''}"
            why = f"Lost {times}, the last because {cause}; given up."
            db_internals.mark_given_up(task, exception_class_path, why)
            logger.error("task %s (%s) given up: %s", task_id, task.task_path, why)
            return True
        db_internals.make_ready_again(task)
    logger.warning("task %s (%s) lost because %s: runs again", task_id, task.task_path, cause)
    return True


def fail_job_runs(run_by: list[str], why: str) -> None:
    """A periodic job that was running on these workers will not report; say so in the admin."""
    PeriodicJobRun.objects.filter(outcome=PeriodicJobRun.Outcome.RUNNING, run_by__in=run_by).update(
        outcome=PeriodicJobRun.Outcome.FAILED, finished_at=Now(), result=why
    )


def _forget_dead_workers(live: set[str]) -> None:
    dead = list(
        WorkerHeartbeat.objects.exclude(worker_id__in=live).values_list("worker_id", flat=True)
    )
    if not dead:
        return
    fail_job_runs(dead, "Its worker died while running it.")
    WorkerHeartbeat.objects.filter(worker_id__in=dead).delete()
