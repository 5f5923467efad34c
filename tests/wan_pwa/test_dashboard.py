"""The staff dashboard: figures from the hourly counts on a seeded data set with known answers,
staff only, and a constant number of queries whatever the history."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from credits import analytics as credit_analytics
from credits import dashboard as credit_dashboard
from credits.actions import OrderOutcome, fulfil_checkout, record_refund
from generations import analytics as generation_analytics
from generations import dashboard
from generations.actions.transitions import UpdateOutcome
from generations.failures import FailureReason
from generations.models import Generation, Status
from tests.credits.stripe_support import paid_session
from tests.factories import make_generation
from wan_pwa.accounts import analytics as account_analytics
from wan_pwa.analytics.dashboard import figures
from wan_pwa.analytics.models import HourlyCount
from wan_pwa.background.models import PeriodicJobRun
from webhooks import analytics as webhook_analytics
from webhooks import dashboard as webhook_dashboard
from webhooks.models import WebhookEvent

pytestmark = pytest.mark.django_db


def roll_up_everything() -> None:
    for module in (generation_analytics, credit_analytics, webhook_analytics, account_analytics):
        module.roll_up()


def ended(user, status: str, *, took: int, webhook: bool = True, **fields) -> Generation:
    generation = make_generation(user, status=status, **fields)
    end = timezone.now() - timedelta(hours=2)
    Generation.objects.filter(pk=generation.pk).update(
        created_at=end - timedelta(seconds=took),
        started_at=end - timedelta(seconds=took) + timedelta(seconds=15),
        completed_at=end,
    )
    if webhook:
        WebhookEvent.objects.create(
            webhook_id=f"msg_{generation.pk}",
            generation=generation,
            replicate_status=status,
            payload={},
            outcome=UpdateOutcome.APPLIED,
        )
    return generation


@pytest.fixture
def seeded(user, other_user):
    """Nine successes (5 in 60 s, 3 in 200 s, 1 in 1000 s) and one failure, one success learned
    by the watchdog; a pack bought and refunded (credits taken back)."""
    for _ in range(5):
        ended(user, Status.SUCCEEDED, took=60)
    for _ in range(3):
        ended(other_user, Status.SUCCEEDED, took=200, model_key="t2v-1.3B")
    ended(user, Status.SUCCEEDED, took=1000, webhook=False)
    ended(user, Status.FAILED, took=30, failure_reason=FailureReason.PROVIDER_ERROR)
    make_generation(user, status=Status.PROCESSING)
    session = paid_session(user)
    assert fulfil_checkout(session).outcome == OrderOutcome.GRANTED
    record_refund("pi_1", 500)
    roll_up_everything()


def test_figures_match_the_seeded_data(seeded):
    data = figures("24h")
    assert dashboard.by_status(data) == {"failed": 1, "succeeded": 9}
    assert dashboard.success_rate(data) == pytest.approx(0.9)
    # Histogram bins: 60 s falls in (45, 60], 200 s in (180, 240], 1000 s in (900, 1800].
    assert data.duration("generations.completion_seconds", 0.5) == 60
    assert data.duration("generations.completion_seconds", 0.95) == 1800
    assert webhook_dashboard.webhook_rate(data) == pytest.approx(9 / 10)
    assert dashboard.top_failures(data) == [("provider_error", 1)]
    credits = credit_dashboard.credits_moved(data)
    assert credits["sold"] == 50
    assert credits["taken back"] == 50
    assert credits["granted (sign-up bonus)"] == 200  # two users, 100 each
    # 14B at 480p costs 10 (7 ended and 1 running), 1.3B costs 5 (3 ended).
    assert credits["spent"] == 8 * 10 + 3 * 5
    assert credits["refunded"] == 10
    assert credit_dashboard.revenue(data) == {"usd": 500}
    assert dashboard.in_flight(data) == 1
    assert dashboard.active_users(data) == 2
    assert data.total("accounts.signups") == 2
    # The daily cap counts free spending only: alice bought a pack, so only mallory's counts.
    assert credit_dashboard.spent_today(data) == 3 * 5
    assert credit_dashboard.bonuses_today(data) == 200


def test_targets_are_judged_against_their_goals(seeded):
    targets = {target.label: target for target in figures("24h").targets()}
    assert targets["Success rate"].met is False  # 90% is not above 95%
    assert targets["Completion p50"].met is True
    assert targets["Completion p95"].met is False
    assert targets["Webhook delivery"].met is False
    assert targets["Credit audit"].met is None


def test_rolling_up_twice_counts_nothing_twice(seeded):
    before = list(HourlyCount.objects.values_list("metric", "dimension", "hour", "value"))
    roll_up_everything()
    after = list(HourlyCount.objects.values_list("metric", "dimension", "hour", "value"))
    assert sorted(before) == sorted(after)


def test_staff_see_the_dashboard_with_targets_in_colour(seeded, staff_client):
    PeriodicJobRun.objects.create(
        job="audit_credits",
        slot=timezone.now(),
        scheduled_by="w",
        outcome=PeriodicJobRun.Outcome.SUCCEEDED,
        finished_at=timezone.now(),
        result="0 mismatches",
    )
    for window in ("24h", "7d", "30d"):
        response = staff_client.get(reverse("admin-dashboard"), {"window": window})
        assert response.status_code == 200
        body = response.content.decode()
        assert "target-missed" in body and "target-met" in body
        assert "<svg" in body and "<polyline" in body
        assert "The model failed" in body
        # Money in the currency's units, as on Billing and in the order admin.
        assert "Revenue (USD)" in body and "5.00 USD" in body and "cents" not in body
        assert "style=" not in body.split('id="content"')[1]  # CSP: no inline style


def test_a_user_who_is_not_staff_is_sent_to_the_admin_login(logged_in):
    response = logged_in.get(reverse("admin-dashboard"))
    assert response.status_code == 302
    assert reverse("admin:login") in response["Location"]


def test_the_admin_index_links_to_the_dashboard(staff_client):
    assert reverse("admin-dashboard") in staff_client.get(reverse("admin:index")).content.decode()


def test_the_dashboard_reads_a_constant_number_of_queries_whatever_the_history(user):
    def queries_for_dashboard() -> int:
        with CaptureQueriesContext(connection) as captured:
            figures("30d")
        return len(captured)

    ended(user, Status.SUCCEEDED, took=60)
    roll_up_everything()
    small = queries_for_dashboard()
    for days_ago in range(1, 30):
        reason = list(FailureReason)[days_ago % len(FailureReason)]
        generation = make_generation(user, status=Status.FAILED, failure_reason=reason)
        moment = timezone.now() - timedelta(days=days_ago)
        Generation.objects.filter(pk=generation.pk).update(created_at=moment, completed_at=moment)
    roll_up_everything()
    assert queries_for_dashboard() == small <= 8
