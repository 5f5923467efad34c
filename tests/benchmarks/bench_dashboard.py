"""The staff dashboard's speed on a big history: p50 of the page (24 h, 7 d, 30 d) with a year of
hourly counts at full cardinality, the size a busy site's roll-ups leave behind. The dashboard
reads only those counts (and the task queue), never the generations or the ledger, so their
size does not enter; the rows and queries per page are printed to show it.

The script creates a throwaway test database (`test_<name>` of DATABASE_URL) and drops it:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/wan_bench \\
        .venv/bin/python tests/benchmarks/bench_dashboard.py
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import timedelta
from pathlib import Path
from statistics import median

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wan_pwa.settings")

import django

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from tests.benchmarks.in_process import throwaway_database  # noqa: E402
from wan_pwa.analytics.models import HourlyCount, RollupCursor  # noqa: E402
from wan_pwa.analytics.rollup import hour_start  # noqa: E402

MODELS = ("t2v-1.3B", "t2v-14B", "i2v-14B")
# Every (metric, dimension) a busy hour produces.
DIMENSIONS = {
    "generations.created": MODELS,
    "generations.ended": [f"{m}:{s}" for m in MODELS for s in ("succeeded", "failed", "canceled")],
    "generations.completion_seconds": ("45", "60", "90", "120", "180", "240", "300", "420"),
    "generations.starting_seconds": ("10", "20", "30", "45", "60", "90"),
    "generations.failure_reason": [f"reason {n}" for n in range(5)],
    "credits.moved": ("bonus", "purchase", "deduction", "refund", "clawback"),
    "credits.revenue": ("usd",),
    "webhooks.generation_end": ("webhook", "other"),
    "webhooks.outcome": ("applied", "final", "unchanged"),
    "accounts.signups": ("",),
    "events.submission_invalid": ("",),
    "events.submission_refused": ("credits",),
    "events.image_upload": ("accepted", "refused: too_large", "refused: invalid_image"),
    "events.webhook_duplicate": ("",),
}


def seed(days: int) -> int:
    now = hour_start(timezone.now())
    rows = [
        HourlyCount(metric=metric, dimension=dimension, hour=now - timedelta(hours=h), value=7)
        for h in range(days * 24)
        for metric, dimensions in DIMENSIONS.items()
        for dimension in dimensions
    ]
    HourlyCount.objects.bulk_create(rows, batch_size=5000)
    for metric, dimensions in (
        ("generations.in_flight", ("queued", "starting", "processing")),
        ("generations.active_users", ("24h", "7d", "30d")),
    ):
        HourlyCount.objects.bulk_create(
            HourlyCount(metric=metric, dimension=d, hour=now, value=40) for d in dimensions
        )
    RollupCursor.objects.create(source="generations", filled_until=timezone.now())
    return len(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--runs", type=int, default=30)
    options = parser.parse_args()
    with throwaway_database():
        rows = seed(options.days)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        from django.contrib.auth import get_user_model

        staff = get_user_model().objects.create_superuser("bench", "b@example.com", "pw-bench-1")
        client = Client()
        client.force_login(staff)
        print(f"hourly count rows: {rows} ({options.days} days)")
        for window in ("24h", "7d", "30d"):
            timings = []
            for _ in range(options.runs):
                with CaptureQueriesContext(connection) as captured:
                    started = time.perf_counter()
                    response = client.get("/admin/dashboard/", {"window": window})
                    timings.append(time.perf_counter() - started)
                assert response.status_code == 200
            print(
                f"dashboard {window:>3}: p50 {median(timings) * 1000:6.1f} ms, "
                f"{len(captured)} SQL queries per page (session and user included)"
            )


if __name__ == "__main__":
    main()
