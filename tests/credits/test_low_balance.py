"""The low-balance alert: one message per fall below the threshold, on the user's notification
channels, re-armed once the balance has been back above it (a purchase), and the threshold
set in Billing."""

from __future__ import annotations

import json

import pytest
from django.core import mail

from credits.actions import add_credits
from credits.models import CreditBalance
from tests.credits.stripe_support import buy
from tests.generations.lifecycle_helpers import run_tasks, scheduled_tasks
from wan_pwa.accounts.models import User
from wan_pwa.outgoing_webhooks.actions import create_endpoint
from wan_pwa.outgoing_webhooks.models import WebhookEvent

pytestmark = pytest.mark.django_db


def spend(user: User, credits: int) -> None:
    add_credits(user, -credits, description="spent in a test")


def alerts() -> int:
    return len(scheduled_tasks("send_low_balance_alert"))


def test_falling_below_the_cheapest_video_alerts_once_until_a_purchase_lifts_it(
    stripe_sim, make_user
):
    user = make_user("lowbalance", notify_by_email=True)
    spend(user, 94)  # 6: still enough for the cheapest video (5)
    assert alerts() == 0
    spend(user, 2)  # 4: below
    spend(user, 3)  # 1: still the same fall
    assert alerts() == 1
    run_tasks()
    (message,) = mail.outbox
    assert message.to == [user.email]
    assert message.subject == "Your credits are running low"
    assert "You have 4 credits left, below the 5" in message.body
    assert "/settings/billing/" in message.body

    buy(stripe_sim, user, 100)  # 101: back above
    spend(user, 97)  # 4: a new fall
    run_tasks()
    assert len(mail.outbox) == 2


def test_the_alert_follows_the_notification_settings(make_user):
    silent = make_user("silent", notify_by_email=False, notify_by_push=False)
    spend(silent, 99)
    assert alerts() == 1
    run_tasks()  # the alert runs, and sends nothing the user turned off
    assert mail.outbox == []
    assert CreditBalance.objects.get(user=silent).low_balance_alerted


def test_a_threshold_set_in_billing_is_used_and_checked(make_user, client):
    user = make_user("thresholds", notify_by_email=True)
    client.force_login(user)
    page = client.get("/settings/billing/").content.decode()
    assert 'data-testid="alert-threshold">5<' in page  # the cheapest video by default

    for bad in ("0", "100001", "-3", "many"):
        response = client.post("/settings/billing/low-balance/", {"threshold": bad})
        assert response.status_code == 400
    assert CreditBalance.objects.get(user=user).low_balance_threshold is None

    assert client.post("/settings/billing/low-balance/", {"threshold": "150"}).status_code == 302
    # Below it already: that is known when it is set, and only a new fall is news.
    spend(user, 10)
    assert alerts() == 0
    add_credits(user, 100, description="back above")
    spend(user, 50)  # 140: a fall below 150
    assert alerts() == 1
    run_tasks()
    assert "below the 150 you asked" in mail.outbox[0].body

    client.post("/settings/billing/low-balance/", {"threshold": ""})
    assert CreditBalance.objects.get(user=user).low_balance_threshold is None


def test_an_api_users_webhook_gets_credits_low_once_per_crossing(make_user, settings):
    settings.OUTBOUND_ALLOWED_PRIVATE_HOSTS = ["127.0.0.1"]
    user = make_user("hooked")
    endpoint, _ = create_endpoint(user, "http://127.0.0.1:9/hook", ["credits.low"])

    spend(user, 97)  # 3
    spend(user, 1)  # 2: the same fall
    add_credits(user, 50, description="back above")
    spend(user, 50)  # 2: a new fall

    events = WebhookEvent.objects.filter(endpoint=endpoint).order_by("pk")
    assert [e.type for e in events] == ["credits.low", "credits.low"]
    assert [json.loads(e.body)["data"] for e in events] == [
        {"balance": 3, "threshold": 5},
        {"balance": 2, "threshold": 5},
    ]
