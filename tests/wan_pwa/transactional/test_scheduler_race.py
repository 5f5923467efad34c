"""Periodic jobs scheduled by workers racing on real connections: one run per job and slot."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from tests.wan_pwa.test_scheduler import crashing_job, problem_job, succeeding_job
from wan_pwa.background import scheduler
from wan_pwa.background.models import PeriodicJobRun
from wan_pwa.registry import Registry


@pytest.fixture
def racing_jobs(monkeypatch):
    """Three jobs due in the same slot, in place of the apps' ones."""
    monkeypatch.setattr(scheduler, "JOBS", Registry[scheduler.PeriodicJob]("periodic job"))
    for name, call in (
        ("succeeds", succeeding_job),
        ("finds_a_problem", problem_job),
        ("crashes", crashing_job),
    ):
        scheduler.register_job(name, call, every=60)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_workers_racing_for_a_slot_schedule_each_job_once(racing_jobs):
    now = timezone.now()
    barrier = threading.Barrier(4)
    scheduled: list[list[str]] = []

    def worker(number: int) -> None:
        try:
            barrier.wait()
            scheduled.append(scheduler.schedule_due_jobs(f"w{number}", now))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(job for jobs_of_one in scheduled for job in jobs_of_one) == [
        "crashes",
        "finds_a_problem",
        "succeeds",
    ]
    assert PeriodicJobRun.objects.count() == 3
    assert DBTaskResult.objects.count() == 3
