"""A worker process killed with SIGKILL in the middle of each kind of task, with no cron and no
command run by hand: another worker gives the task back, every generation settles, no task row
stays RUNNING and the credits audit is clean."""

from __future__ import annotations

from pathlib import Path

import pytest
from django_tasks_db.models import DBTaskResult

from credits.audit import audit_credits
from generations.models import Generation, Status
from generations.simulator import ReplicateSimulator
from tests.generations.background_stack import Stack, all_settled
from tests.generations.lifecycle_helpers import PROMPT, refunds_of, submit
from tests.waiting import wait_until

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def simulator():
    # No webhooks: only the tasks (and so the reaper) can bring the generations to an end.
    with ReplicateSimulator(duration=0.3, frames=4, no_webhooks=True) as running:
        yield running


@pytest.fixture
def stack(tmp_path: Path, simulator: ReplicateSimulator):
    processes = Stack(
        tmp_path / "processes",
        REPLICATE_BASE_URL=simulator.base_url,
        REPLICATE_API_TOKEN="test",
        REPLICATE_WEBHOOK_SECRET=simulator.webhook_secret,
    )
    yield processes
    processes.stop_all()


@pytest.mark.parametrize("point", ["submit", "watchdog", "copy"])
def test_a_worker_killed_during_a_task_leaves_nothing_unsettled(point, stack, make_user):
    users = [make_user(), make_user()]
    ok = submit(users[0])
    failing = submit(users[1], f"{PROMPT} [fail]")
    stack.start_worker("doomed", crash_at=point)
    wait_until(lambda: stack.dead_workers() == ["doomed"], timeout=30, what=f"a crash at {point}")
    # The killed task is still RUNNING: only the survivor's reaper can give it back.
    assert DBTaskResult.objects.filter(status="RUNNING").exists()
    stack.start_worker("survivor")
    wait_until(lambda: all_settled([ok.pk, failing.pk]), timeout=30, what="every generation")

    assert stack.self_crashes()[0].startswith(point)
    ok.refresh_from_db()
    assert ok.status == Status.SUCCEEDED, ok.error_message
    assert Path(ok.video.path).stat().st_size > 0
    failing.refresh_from_db()
    assert failing.status == Status.FAILED and refunds_of(failing) == 1
    assert refunds_of(ok) == 0
    report = audit_credits()
    assert report.clean, [str(mismatch) for mismatch in report.mismatches]
    assert Generation.objects.in_flight().count() == 0
