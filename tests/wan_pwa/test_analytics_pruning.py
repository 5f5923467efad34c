"""Hourly counts past ANALYTICS_RETENTION_DAYS are pruned by the roll-up jobs, a bounded batch
per run, never inside the dashboard's 30 days, and without waiting on a concurrent run."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.utils import timezone
from pytest_django import Settings

from wan_pwa.accounts import analytics as account_analytics
from wan_pwa.analytics.dashboard import figures
from wan_pwa.analytics.models import HourlyCount
from wan_pwa.analytics.rollup import PRUNE_BATCH, hour_start


def count_at(moment: datetime, metric: str = "events.image_upload", dimension: str = "") -> int:
    """One hourly count row at `moment`'s hour; its primary key."""
    row = HourlyCount.objects.create(
        metric=metric, dimension=dimension, hour=hour_start(moment), value=1
    )
    return row.pk


def ago(days: float) -> datetime:
    return timezone.now() - timedelta(days=days)


@pytest.mark.django_db
def test_a_roll_up_prunes_every_metric_past_the_retention_and_keeps_the_rest(settings: Settings):
    settings.ANALYTICS_RETENTION_DAYS = 60
    expired = {
        count_at(ago(61)),
        count_at(ago(61), "generations.ended", "t2v-14B:succeeded"),  # another source's row
        count_at(ago(90), "credits.moved", "deduction"),
    }
    kept = {count_at(ago(59)), count_at(ago(59), "generations.ended", "t2v-14B:failed")}

    summary = account_analytics.roll_up()

    assert "3 expired pruned" in summary
    remaining = set(HourlyCount.objects.values_list("pk", flat=True))
    assert kept <= remaining
    assert not expired & remaining


@pytest.mark.django_db
def test_each_run_prunes_one_bounded_batch_oldest_first_and_the_next_runs_finish():
    # The default retention (400 days) keeps a year and a month.
    HourlyCount.objects.bulk_create(
        HourlyCount(metric="events.image_upload", dimension=str(n), hour=hour_start(ago(500)))
        for n in range(PRUNE_BATCH)
    )
    newest_expired = {count_at(ago(401), dimension=str(n)) for n in range(5)}
    kept = count_at(ago(399))

    assert "1000 expired pruned" in account_analytics.roll_up()
    assert set(HourlyCount.objects.values_list("pk", flat=True)) == newest_expired | {kept}
    assert "5 expired pruned" in account_analytics.roll_up()
    assert "0 expired pruned" in account_analytics.roll_up()
    assert list(HourlyCount.objects.values_list("pk", flat=True)) == [kept]


@pytest.mark.django_db
def test_a_retention_shorter_than_the_dashboard_still_keeps_its_30_days(settings: Settings):
    settings.ANALYTICS_RETENTION_DAYS = 1
    for days in (2, 15, 29):
        count_at(ago(days))
    older = count_at(ago(31))
    before = figures("30d").total("events.image_upload")

    account_analytics.roll_up()

    assert before == 3
    assert figures("30d").total("events.image_upload") == 3
    assert not HourlyCount.objects.filter(pk=older).exists()
