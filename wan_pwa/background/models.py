"""Rows the workers keep about themselves: who is alive, and which periodic job ran when."""

from __future__ import annotations

from django.db import models


class WorkerHeartbeat(models.Model):
    """A running `manage.py run_worker`; `last_seen` (the database's clock) moves every
    WORKER_HEARTBEAT_INTERVAL. A worker silent for WORKER_LEASE is dead: its tasks are reaped."""

    worker_id = models.CharField(max_length=64, primary_key=True)
    hostname = models.CharField(max_length=255)
    pid = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    last_seen = models.DateTimeField(db_index=True)

    class Meta:
        app_label = "wan_pwa"
        ordering = ["-last_seen"]

    def __str__(self) -> str:
        return f"{self.worker_id} ({self.hostname}:{self.pid})"


class PeriodicJobRun(models.Model):
    """One period of one periodic job. The unique (job, slot) is what makes a job run once per
    period however many workers schedule it: the first insert wins, the others get an
    IntegrityError and move on."""

    class Outcome(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    job = models.CharField(max_length=64)
    slot = models.DateTimeField(help_text="Start of the period this run is for.")
    scheduled_by = models.CharField(max_length=64)
    run_by = models.CharField(max_length=64, blank=True)
    outcome = models.CharField(max_length=10, choices=Outcome.choices, default=Outcome.SCHEDULED)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    result = models.TextField(blank=True)

    class Meta:
        app_label = "wan_pwa"
        ordering = ["-slot", "job"]
        constraints = [
            models.UniqueConstraint(fields=["job", "slot"], name="periodic_job_once_per_slot")
        ]

    def __str__(self) -> str:
        return f"{self.job} @ {self.slot:%Y-%m-%d %H:%M:%S}"

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None


class MetricCounter(models.Model):
    """A named counter that only goes up (e.g. credit audit mismatches), shared by every
    process because it lives in the database."""

    name = models.CharField(max_length=100, primary_key=True)
    value = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        app_label = "wan_pwa"
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} = {self.value}"
