"""Pruning hourly counts while another run holds some of them: it skips them, never waits."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, transaction
from django.utils import timezone

from tests.wan_pwa.test_analytics_pruning import ago, count_at
from wan_pwa.analytics.models import HourlyCount
from wan_pwa.analytics.rollup import prune


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_run_skips_rows_a_concurrent_run_is_deleting_instead_of_waiting():
    held = {count_at(ago(500), dimension=f"held {n}") for n in range(3)}
    free = {count_at(ago(450), dimension=f"free {n}") for n in range(4)}
    locked, release = threading.Event(), threading.Event()

    def concurrent_run() -> None:
        """Another roll-up's prune, stopped while it holds the oldest rows' locks."""
        try:
            with transaction.atomic():
                list(HourlyCount.objects.filter(pk__in=held).select_for_update())
                locked.set()
                release.wait(timeout=30)
        finally:
            connection.close()

    thread = threading.Thread(target=concurrent_run)
    thread.start()
    try:
        assert locked.wait(timeout=10)
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '2s'")  # waiting would fail here, not hang
        assert prune(timezone.now()) == len(free)
    finally:
        release.set()
        thread.join(timeout=10)
        with connection.cursor() as cursor:
            cursor.execute("RESET lock_timeout")
    assert set(HourlyCount.objects.values_list("pk", flat=True)) == held
    assert prune(timezone.now()) == len(held)
