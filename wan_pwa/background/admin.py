"""The workers in the back office: periodic job runs (each job's last run, duration and result
on top of the list), live workers and counters. All read-only: the workers write them."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Max
from django.http import HttpRequest
from django.template.response import TemplateResponse

from wan_pwa.background.models import MetricCounter, PeriodicJobRun, WorkerHeartbeat
from wan_pwa.background.scheduler import periodic_jobs


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(PeriodicJobRun)
class PeriodicJobRunAdmin(ReadOnlyAdmin):
    list_display = ("job", "slot", "outcome", "duration", "result", "run_by")
    list_filter = ("job", "outcome")
    date_hierarchy = "slot"

    @admin.display(description="duration")
    def duration(self, run: PeriodicJobRun) -> str:
        seconds = run.duration_seconds
        return "-" if seconds is None else f"{seconds:.2f} s"

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> TemplateResponse:
        latest_slots = PeriodicJobRun.objects.values("job").annotate(slot=Max("slot"))
        latest = {
            run.job: run
            for run in PeriodicJobRun.objects.filter(slot__in=[row["slot"] for row in latest_slots])
        }
        jobs = [(job, latest.get(job.name)) for job in periodic_jobs()]
        context = {**(extra_context or {}), "periodic_jobs": jobs}
        return super().changelist_view(request, extra_context=context)  # type: ignore[return-value]


@admin.register(WorkerHeartbeat)
class WorkerHeartbeatAdmin(ReadOnlyAdmin):
    list_display = ("worker_id", "hostname", "pid", "started_at", "last_seen")


@admin.register(MetricCounter)
class MetricCounterAdmin(ReadOnlyAdmin):
    list_display = ("name", "value", "updated_at")
