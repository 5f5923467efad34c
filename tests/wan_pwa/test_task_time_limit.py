"""A task that hangs inside a live worker is stopped at TASK_TIME_LIMIT_SECONDS and given back
like a lost task, and the worker goes on with the next one (a real `run_worker` process)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django_tasks_db.models import DBTaskResult

from tests.generations.background_stack import Stack, wait_for
from tests.wan_pwa.worker_tasks import hang, note
from wan_pwa.background.models import WorkerHeartbeat
from wan_pwa.background.worker import TIME_LIMIT_ERROR

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

HANG_BOUND_SECONDS = 60  # how long `hang` would block without the limit


def test_a_hung_task_is_stopped_given_back_then_given_up_and_the_worker_goes_on(tmp_path: Path):
    hung = hang.enqueue(HANG_BOUND_SECONDS)  # priority 10: claimed first, and again when back
    after = note.enqueue("after the hung task")
    stack = Stack(tmp_path / "processes", TASK_TIME_LIMIT_SECONDS="1", TASK_MAX_CLAIMS="2")
    try:
        stack.start_worker("w")
        wait_for(
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
