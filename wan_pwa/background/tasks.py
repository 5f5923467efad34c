"""The one task of the scheduler: running a periodic job in a worker, like any other task (so
a job lost with its worker is reaped and re-run)."""

from __future__ import annotations

from django_tasks import TaskContext, task

from wan_pwa.background import scheduler

# Below every generation task: housekeeping never delays a user's video.
PERIODIC_JOB_PRIORITY = -50


@task(priority=PERIODIC_JOB_PRIORITY, takes_context=True)
def run_periodic_job(context: TaskContext, run_id: int) -> str:
    return scheduler.run_job(run_id, worker_id=context.task_result.worker_ids[-1])
