"""Probes for load balancers and orchestrators, answered as JSON with 200 or 503.

`/healthz` (liveness) touches nothing outside the process: a database outage must not get every
web process restarted. `/readyz` (readiness) checks what serving needs: the database, the cache
(Redis when REDIS_URL is set), migrations applied, a worker seen lately and a queue that moves.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, connection
from django.db.migrations.executor import MigrationExecutor
from django.db.models import Case, F, Min, When
from django.db.models.functions import Now
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from django_tasks_db.models import DBTaskResult, get_date_max

from wan_pwa.background.models import WorkerHeartbeat

# Migrations once applied stay applied for the life of the process: checked until then only
# (loading the migration files takes a while).
_migrated = False


@require_safe
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


@require_safe
@never_cache
def readyz(request: HttpRequest) -> JsonResponse:
    checks: dict[str, Callable[[], str | None]] = {
        "database": _database,
        "cache": _cache,
        "migrations": _migrations,
        "worker": _worker,
        "queue": _queue,
    }
    results = {}
    for name, check in checks.items():
        try:
            problem = check()
        except Exception as error:  # a probe reports every failure rather than raising it
            problem = f"{type(error).__name__}: {error}"
        results[name] = {"ok": problem is None, **({"error": problem} if problem else {})}
        if name == "database" and problem:
            break  # every other check needs the database
    ready = all(result["ok"] for result in results.values())
    return JsonResponse(
        {"status": "ok" if ready else "fail", "checks": results}, status=200 if ready else 503
    )


def _database() -> str | None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError as error:
        return f"unreachable: {error}"
    return None


def _cache() -> str | None:
    cache.set("readyz", "1", 10)
    return None if cache.get("readyz") == "1" else "the cache did not keep a value"


def _migrations() -> str | None:
    global _migrated
    if not _migrated:
        executor = MigrationExecutor(connection)
        pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
        if pending:
            return f"{len(pending)} migrations not applied"
        _migrated = True
    return None


def _worker() -> str | None:
    silence = timedelta(seconds=settings.READYZ_WORKER_SILENCE)
    if WorkerHeartbeat.objects.filter(last_seen__gte=Now() - silence).exists():
        return None
    return f"no worker seen in the last {settings.READYZ_WORKER_SILENCE} seconds"


def _queue() -> str | None:
    waiting_since = Case(
        When(run_after=get_date_max(), then=F("enqueued_at")), default=F("run_after")
    )
    oldest = DBTaskResult.objects.ready().aggregate(oldest=Min(waiting_since))["oldest"]
    if oldest is None:
        return None
    waited = (timezone.now() - oldest).total_seconds()
    if waited > settings.READYZ_MAX_TASK_WAIT:
        return f"the oldest ready task has waited {waited:.0f} seconds"
    return None
