"""Heartbeats and the reaper: a task left RUNNING by a worker that stopped beating runs again,
or fails once its workers have died TASK_MAX_CLAIMS times; live workers' tasks are left alone."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from pytest_django import Settings

from generations.lifecycle import scheduling
from generations.lifecycle.submission import submit_prediction
from tests.generations.lifecycle_helpers import configure, make_due, submit
from wan_pwa.background import heartbeat
from wan_pwa.background.models import PeriodicJobRun, WorkerHeartbeat


@pytest.fixture(autouse=True)
def short_lease(settings: Settings) -> None:
    settings.WORKER_LEASE = 30
    settings.TASK_MAX_CLAIMS = 3


def running_task(*worker_ids: str, started_seconds_ago: float = 60) -> DBTaskResult:
    return DBTaskResult.objects.create(
        status="RUNNING",
        args_kwargs={"args": [1], "kwargs": {}},
        task_path="generations.tasks.watch_generation",
        backend_name="default",
        run_after=timezone.now(),
        started_at=timezone.now() - timedelta(seconds=started_seconds_ago),
        worker_ids=list(worker_ids),
    )


def silence(worker_id: str, seconds: float) -> None:
    WorkerHeartbeat.objects.filter(worker_id=worker_id).update(
        last_seen=timezone.now() - timedelta(seconds=seconds)
    )


def test_a_task_of_a_dead_worker_is_made_ready_again(db):
    heartbeat.beat("dead")
    silence("dead", 31)
    lost = running_task("dead")
    assert heartbeat.reap_lost_tasks() == 1
    lost.refresh_from_db()
    assert lost.status == "READY" and lost.started_at is None
    assert not WorkerHeartbeat.objects.filter(worker_id="dead").exists()
    assert heartbeat.reap_lost_tasks() == 0


def test_a_task_of_a_worker_that_never_beat_is_reaped_once_the_lease_has_passed(db):
    old, fresh = running_task("ghost"), running_task("ghost", started_seconds_ago=5)
    assert heartbeat.reap_lost_tasks() == 1
    old.refresh_from_db()
    fresh.refresh_from_db()
    assert (old.status, fresh.status) == ("READY", "RUNNING")


def test_tasks_of_live_workers_are_left_alone_however_long_they_run(db):
    heartbeat.beat("alive")
    long_task = running_task("alive", started_seconds_ago=3600)
    assert heartbeat.reap_lost_tasks() == 0
    long_task.refresh_from_db()
    assert long_task.status == "RUNNING"


def test_a_task_whose_workers_keep_dying_fails_instead_of_looping(db):
    task = running_task("w1", "w2", "w3")
    assert heartbeat.reap_lost_tasks() == 1
    task.refresh_from_db()
    assert task.status == "FAILED"
    assert task.exception_class_path == heartbeat.LOST_WORKER_ERROR
    assert task.traceback == "Lost 3 times, the last because its worker w3 died; given up."


def test_a_periodic_job_running_on_a_dead_worker_is_shown_as_failed(db):
    heartbeat.beat("dead")
    silence("dead", 31)
    run = PeriodicJobRun.objects.create(
        job="audit_credits",
        slot=timezone.now(),
        scheduled_by="dead",
        run_by="dead",
        outcome="running",
    )
    heartbeat.reap_lost_tasks()
    run.refresh_from_db()
    assert run.outcome == "failed" and "died" in run.result


def test_fresh_submissions_run_before_due_watchdog_checks(db, settings, make_user):
    configure(settings)
    first = submit(make_user())
    DBTaskResult.objects.filter(task_path__endswith="submit_prediction").update(status="SUCCESSFUL")
    make_due("watch_generation")  # the first generation's check is due ...
    second = submit(make_user())  # ... when another user submits
    next_task = DBTaskResult.objects.ready().first()
    assert next_task is not None
    assert next_task.task_path == submit_prediction.module_path
    assert next_task.args_kwargs["args"] == [second.pk]
    assert scheduling.SUBMIT_PRIORITY > scheduling.COPY_PRIORITY > scheduling.WATCHDOG_PRIORITY
    assert first.pk != second.pk


def test_run_worker_refuses_contradictory_options(db):
    with pytest.raises(CommandError, match="--exclude-queues"):
        call_command("run_worker", "--exclude-queues", "slow", "--batch", "--no-reload")
