"""A task that hangs inside a live worker is stopped at TASK_TIME_LIMIT_SECONDS and given back
like a lost task, and the worker goes on with the next one (a real `run_worker` process)."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

import pytest
from django_tasks_db.models import DBTaskResult
from pytest_django import Settings

from tests.generations.background_stack import Stack
from tests.waiting import wait_until
from tests.wan_pwa.worker_tasks import hang, note, stuck_job
from wan_pwa.background import scheduler
from wan_pwa.background.models import PeriodicJobRun, WorkerHeartbeat
from wan_pwa.background.worker import TIME_LIMIT_ERROR, HousekeepingWorker
from wan_pwa.registry import Registry

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

HANG_BOUND_SECONDS = 60  # how long `hang` would block without the limit


def test_a_hung_task_is_stopped_given_back_then_given_up_and_the_worker_goes_on(tmp_path: Path):
    hung = hang.enqueue(HANG_BOUND_SECONDS)  # priority 10: claimed first, and again when back
    after = note.enqueue("after the hung task")
    stack = Stack(tmp_path / "processes", TASK_TIME_LIMIT_SECONDS="1", TASK_MAX_CLAIMS="2")
    try:
        stack.start_worker("w")
        wait_until(
            lambda: DBTaskResult.objects.filter(pk=after.id, status="SUCCESSFUL").exists(),
            timeout=30,
            what="the task queued behind the hung one to run",
        )
        assert stack.dead_workers() == []  # the same process, still running
        assert WorkerHeartbeat.objects.count() == 1  # and still beating
    finally:
        stack.stop_all()

    hung_row = DBTaskResult.objects.get(pk=hung.id)
    after_row = DBTaskResult.objects.get(pk=after.id)
    # Lost once (made ready and claimed again by the same live worker), then given up.
    assert hung_row.status == "FAILED"
    assert len(hung_row.worker_ids) == 2 and len(set(hung_row.worker_ids)) == 1
    assert hung_row.exception_class_path == TIME_LIMIT_ERROR
    assert hung_row.traceback.startswith("Lost 2 times, the last because it ran past")
    assert "time limit of 1 s" in hung_row.traceback
    assert hung_row.finished_at is not None and after_row.started_at is not None
    assert hung_row.finished_at - hung_row.enqueued_at < timedelta(seconds=HANG_BOUND_SECONDS / 3)
    assert after_row.return_value == "after the hung task"
    assert after_row.worker_ids == hung_row.worker_ids[:1]
    assert after_row.started_at >= hung_row.finished_at


def test_a_periodic_job_stopped_at_its_limit_is_shown_as_failed(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(scheduler, "JOBS", Registry[scheduler.PeriodicJob]("periodic job"))
    scheduler.register_job("stuck", stuck_job, every=3600)
    settings.TASK_TIME_LIMIT_SECONDS = 0.3
    settings.TASK_MAX_CLAIMS = 1
    assert scheduler.schedule_due_jobs("scheduler") == ["stuck"]
    worker = HousekeepingWorker(
        run_scheduler=False,
        queue_names=["default"],
        interval=0,
        batch=True,  # returns once the queue is empty
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="in-process",
        excluded_queue_names=[],
    )
    started = time.monotonic()
    worker.run()  # in this (main) thread, where the alarm can interrupt the job

    assert time.monotonic() - started < 10
    run = PeriodicJobRun.objects.get(job="stuck")
    assert (run.outcome, run.result, run.run_by) == (
        "failed",
        "It ran past the time limit.",
        "in-process",
    )
    task_row = DBTaskResult.objects.get(task_path__endswith="run_periodic_job")
    assert (task_row.status, task_row.exception_class_path) == ("FAILED", TIME_LIMIT_ERROR)
    assert task_row.traceback.startswith("Lost 1 time, the last because it ran past")
