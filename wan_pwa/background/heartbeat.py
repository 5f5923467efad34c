"""Worker heartbeats and the reaper: a task row left RUNNING by a worker that stopped beating
comes back.

Times are the database's (`Now()`), so workers on hosts with skewed clocks agree on who is dead.
A lost task is made READY again and re-run, which is safe because every task is idempotent; one
that has already been lost TASK_MAX_CLAIMS times (it may be what kills its workers) is marked
FAILED instead, and the periodic jobs (reconcile) settle whatever it left undone.
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
from django_tasks_db.models import DBTaskResult

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
    suspects = DBTaskResult.objects.filter(
        status=TaskResultStatus.RUNNING, started_at__lt=Now() - lease()
    )
    reaped = 0
    for suspect in suspects.only("id", "worker_ids"):
        if suspect.worker_ids and suspect.worker_ids[-1] in live:
            continue
        if _reap(suspect.pk, suspect.worker_ids):
            reaped += 1
    _forget_dead_workers(live)
    return reaped


def _reap(task_id: UUID, worker_ids: list[str]) -> bool:
    with transaction.atomic():
        task = (
            DBTaskResult.objects.select_for_update(skip_locked=True)
            .filter(pk=task_id, status=TaskResultStatus.RUNNING, worker_ids=worker_ids)
            .first()
        )
        if task is None:  # finished, or reaped by another worker meanwhile
            return False
        lost_with = worker_ids[-1] if worker_ids else "?"
        if len(worker_ids) >= settings.TASK_MAX_CLAIMS:
            task.status = TaskResultStatus.FAILED
            task.finished_at = Now()
            task.exception_class_path = LOST_WORKER_ERROR
            task.traceback = (
                f"Its worker died {len(worker_ids)} times while running it (last: {lost_with}); "
                "given up."
            )
            task.save(update_fields=["status", "finished_at", "exception_class_path", "traceback"])
            logger.error("task %s (%s) given up: %s", task.pk, task.task_path, task.traceback)
            return True
        task.status = TaskResultStatus.READY
        task.started_at = None
        task.save(update_fields=["status", "started_at"])
    logger.warning(
        "task %s (%s) lost with worker %s: runs again", task_id, task.task_path, lost_with
    )
    return True


def _forget_dead_workers(live: set[str]) -> None:
    dead = list(
        WorkerHeartbeat.objects.exclude(worker_id__in=live).values_list("worker_id", flat=True)
    )
    if not dead:
        return
    # A periodic job that was running on a dead worker will not report; say so in the admin.
    PeriodicJobRun.objects.filter(outcome=PeriodicJobRun.Outcome.RUNNING, run_by__in=dead).update(
        outcome=PeriodicJobRun.Outcome.FAILED,
        finished_at=Now(),
        result="Its worker died while running it.",
    )
    WorkerHeartbeat.objects.filter(worker_id__in=dead).delete()
