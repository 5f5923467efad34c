"""The scheduler of periodic jobs: one run per job and period however many workers ask, each
run's outcome, duration and result recorded, and the jobs themselves."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest
from django.apps import apps
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from credits.jobs import MISMATCH_METRIC
from credits.models import CreditBalance
from wan_pwa.accounts.admin import USER_SECTIONS
from wan_pwa.analytics.dashboard import CARDS, TARGETS
from wan_pwa.background import jobs, metrics, scheduler
from wan_pwa.background.models import PeriodicJobRun
from wan_pwa.metrics import COLLECTORS
from wan_pwa.registry import Registry
from webhooks.jobs import prune_webhook_events
from webhooks.models import WebhookEvent

calls: list[str] = []


def succeeding_job() -> str:
    calls.append("succeeds")
    return "did 3 things"


def problem_job() -> str:
    raise scheduler.JobFailed("2 things are wrong")


def crashing_job() -> str:
    raise RuntimeError("boom")


@pytest.fixture
def test_jobs(monkeypatch):
    """These jobs in place of the apps' ones, registered as an app's `ready()` does."""
    monkeypatch.setattr(scheduler, "JOBS", Registry[scheduler.PeriodicJob]("periodic job"))
    for name, call, every in (
        ("succeeds", succeeding_job, 60),
        ("finds_a_problem", problem_job, 60),
        ("crashes", crashing_job, 60),
        ("off", succeeding_job, 0),
    ):
        scheduler.register_job(name, call, every=every)
    calls.clear()


def runs() -> dict[str, PeriodicJobRun]:
    return {run.job: run for run in PeriodicJobRun.objects.all()}


def run_scheduled() -> None:
    for task in DBTaskResult.objects.filter(task_path__endswith="run_periodic_job"):
        scheduler.run_job(task.args_kwargs["args"][0], worker_id="w1")


def test_slots_are_aligned_to_the_epoch_so_every_worker_computes_the_same():
    job = scheduler.PeriodicJob("j", succeeding_job, 300)
    assert job.slot(datetime(2026, 1, 1, 12, 7, 59, tzinfo=UTC)) == datetime(
        2026, 1, 1, 12, 5, tzinfo=UTC
    )
    assert job.slot(datetime(2026, 1, 1, 12, 10, tzinfo=UTC)) == datetime(
        2026, 1, 1, 12, 10, tzinfo=UTC
    )


def test_each_job_is_scheduled_once_per_period_and_again_in_the_next(db, test_jobs):
    now = timezone.now()
    assert sorted(scheduler.schedule_due_jobs("w1", now)) == [
        "crashes",
        "finds_a_problem",
        "succeeds",
    ]
    assert scheduler.schedule_due_jobs("w2", now) == []
    assert scheduler.schedule_due_jobs("w2", now + timedelta(seconds=60)) != []
    assert PeriodicJobRun.objects.filter(job="succeeds").count() == 2
    assert DBTaskResult.objects.filter(task_path__endswith="run_periodic_job").count() == 6


def test_a_run_records_outcome_duration_and_result(db, test_jobs):
    scheduler.schedule_due_jobs("w1")
    run_scheduled()
    found = runs()
    assert found["succeeds"].outcome == "succeeded"
    assert found["succeeds"].result == "did 3 things"
    assert found["succeeds"].duration_seconds is not None
    assert found["succeeds"].run_by == "w1"
    assert found["finds_a_problem"].outcome == "failed"
    assert found["finds_a_problem"].result == "2 things are wrong"
    assert found["crashes"].outcome == "failed"
    assert found["crashes"].result == "RuntimeError: boom"


def test_a_finished_run_is_not_repeated_when_its_task_runs_again(db, test_jobs):
    scheduler.schedule_due_jobs("w1")
    run_scheduled()
    run_scheduled()  # as after a worker died between the job and marking its task done
    assert calls == ["succeeds"]


def test_an_overridden_period_applies_and_zero_turns_a_job_off(settings):
    settings.PERIODIC_JOB_PERIODS = {"audit_credits": 7, "reconcile_generations": 0}
    jobs_on = {job.name: job.every for job in scheduler.periodic_jobs()}
    assert jobs_on["audit_credits"] == 7
    assert "reconcile_generations" not in jobs_on
    assert jobs_on["reconcile_orders"] == 600  # the period its app registered


def test_check_refuses_a_period_for_a_job_no_app_registers(settings):
    settings.PERIODIC_JOB_PERIODS = {"nightly_backup": 60}
    with pytest.raises(SystemCheckError, match="nightly_backup"):
        call_command("check")


def test_every_apps_pieces_are_registered_once_even_if_ready_runs_again():
    registries: list[Registry] = [scheduler.JOBS, COLLECTORS, CARDS, TARGETS, USER_SECTIONS]
    before = [registry.names() for registry in registries]
    for config in apps.get_app_configs():
        config.ready()
    assert [registry.names() for registry in registries] == before
    assert {"reconcile_generations", "audit_credits", "prune_webhook_events"} <= set(before[0])
    assert {"generations", "credits", "webhooks", "task_queue"} <= set(before[1])


def test_audit_job_logs_counts_and_fails_on_a_mismatch(db, make_user, caplog):
    from credits.jobs import audit_credits

    user = make_user()
    assert audit_credits().startswith("clean")
    # A balance edited behind the actions' back disagrees with its ledger and with its buckets.
    CreditBalance.objects.filter(user=user).update(balance=F("balance") + 7)
    with caplog.at_level(logging.ERROR), pytest.raises(scheduler.JobFailed, match="2 mismatch"):
        audit_credits()
    assert metrics.value_of(MISMATCH_METRIC) == 2
    assert any("credit audit" in record.message for record in caplog.records)


def _task(status: str, finished_days_ago: float | None) -> DBTaskResult:
    finished = (
        None if finished_days_ago is None else timezone.now() - timedelta(days=finished_days_ago)
    )
    return DBTaskResult.objects.create(
        status=status,
        args_kwargs={"args": [], "kwargs": {}},
        task_path="generations.tasks.watch_generation",
        backend_name="default",
        run_after=timezone.now(),
        finished_at=finished,
    )


def test_pruning_deletes_only_old_finished_task_rows(db, settings):
    settings.TASK_RESULT_RETENTION_DAYS = 7
    old_done, old_failed = _task("SUCCESSFUL", 8), _task("FAILED", 8)
    recent, ready, running = _task("SUCCESSFUL", 1), _task("READY", None), _task("RUNNING", None)
    assert jobs.prune_task_results().startswith("deleted 2 finished task rows")
    left = set(DBTaskResult.objects.values_list("pk", flat=True))
    assert left == {recent.pk, ready.pk, running.pk}
    assert old_done.pk not in left and old_failed.pk not in left
    assert jobs.prune_task_results().startswith("deleted 0")


def test_pruning_deletes_only_old_webhook_events(db, settings):
    settings.WEBHOOK_EVENT_RETENTION_DAYS = 30
    old = WebhookEvent.objects.create(webhook_id="old", payload={})
    WebhookEvent.objects.filter(pk=old.pk).update(received_at=timezone.now() - timedelta(days=31))
    recent = WebhookEvent.objects.create(webhook_id="recent", payload={})
    assert prune_webhook_events() == "deleted 1 webhook event(s)"
    assert list(WebhookEvent.objects.values_list("pk", flat=True)) == [recent.pk]


def test_staff_see_each_jobs_last_run_in_the_admin(admin_client, test_jobs):
    scheduler.schedule_due_jobs("w1")
    run_scheduled()
    page = admin_client.get(reverse("admin:wan_pwa_periodicjobrun_changelist"))
    assert page.status_code == 200
    text = page.content.decode()
    assert "Last run of each job" in text
    assert "did 3 things" in text and "RuntimeError: boom" in text
    assert "off" not in [job.name for job, _ in page.context["periodic_jobs"]]
