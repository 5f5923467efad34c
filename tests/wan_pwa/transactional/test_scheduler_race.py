"""Periodic jobs scheduled by workers racing on real connections: one run per job and slot."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from tests.wan_pwa.test_scheduler import JOBS
from wan_pwa.background import scheduler
from wan_pwa.background.models import PeriodicJobRun


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_workers_racing_for_a_slot_schedule_each_job_once(settings):
    settings.PERIODIC_JOBS = JOBS
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
