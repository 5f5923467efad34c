"""Two worker processes running the scheduler side by side: each periodic job runs once per
period, never twice."""

from __future__ import annotations

import itertools
from datetime import timedelta
from pathlib import Path

import pytest
from django.db.models import Count
from django_tasks_db.models import DBTaskResult

from tests.generations.background_stack import Stack
from tests.waiting import wait_until
from wan_pwa.background.models import PeriodicJobRun

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

JOBS = ("reconcile_generations", "audit_credits", "prune_task_results", "prune_webhook_events")


def test_two_workers_run_each_job_once_per_period(tmp_path: Path):
    every_second = ",".join(f"{job}=1" for job in JOBS)
    stack = Stack(tmp_path / "processes", PERIODIC_JOB_PERIODS=every_second)
    try:
        stack.start_worker("a")
        stack.start_worker("b")
        wait_until(
            lambda: PeriodicJobRun.objects.filter(outcome="succeeded").count() >= 4 * len(JOBS),
            timeout=30,
            what="four periods of every job",
        )
    finally:
        stack.stop_all()

    runs = PeriodicJobRun.objects.order_by("slot")
    assert not runs.values("job", "slot").annotate(n=Count("id")).filter(n__gt=1).exists()
    assert DBTaskResult.objects.filter(task_path__endswith="run_periodic_job").count() == (
        runs.count()
    )
    assert set(runs.values_list("outcome", flat=True)) <= {"succeeded", "scheduled", "running"}
    for job in JOBS:
        slots = list(runs.filter(job=job).values_list("slot", flat=True))
        assert len(set(slots)) == len(slots)
        assert all(
            (later - earlier) % timedelta(seconds=1) == timedelta(0)
            for earlier, later in itertools.pairwise(slots)
        )
