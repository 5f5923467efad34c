"""Staff side of purchases: orders and Stripe events in the admin, the refund action (Stripe
refunds, the webhook takes the credits back), "process again", the user's orders and debt, the
deploy check and the simulator command."""

from __future__ import annotations

import pytest
from django.core.checks import run_checks
from django.core.management import CommandError, call_command
from django.urls import reverse

from credits.selectors import balance_of
from tests.credits.stripe_support import buy, deliver_all
from webhooks.models import StripeEvent

pytestmark = pytest.mark.django_db


def act(client, url_name: str, action: str, *pks: int):
    return client.post(
        reverse(url_name), {"action": action, "_selected_action": list(pks)}, follow=True
    )


def test_the_refund_action_refunds_on_stripe_and_the_webhook_takes_the_credits_back(
    stripe_sim, admin_client, user, assert_audit_clean
):
    order = buy(stripe_sim, user, 500)

    response = act(admin_client, "admin:credits_order_changelist", "refund", order.pk)
    assert "Stripe refund re_test_" in response.content.decode()
    assert balance_of(user) == 600  # nothing moves before Stripe says so
    deliver_all(stripe_sim)
    again = act(admin_client, "admin:credits_order_changelist", "refund", order.pk)

    order.refresh_from_db()
    assert order.amount_refunded == 2000
    assert balance_of(user) == 100
    assert "already refunded in full" in again.content.decode()
    assert_audit_clean()


def test_orders_are_searchable_by_session_id_and_read_only(stripe_sim, admin_client, user):
    order = buy(stripe_sim, user)
    changelist = admin_client.get(
        reverse("admin:credits_order_changelist"), {"q": order.checkout_session_id}
    )
    change = admin_client.get(reverse("admin:credits_order_change", args=[order.pk]))

    assert f">{order.pk}<" in changelist.content.decode()
    assert 'name="_save"' not in change.content.decode()
    assert "Order #" in change.content.decode()  # its ledger rows


def test_process_again_reapplies_an_event_without_granting_twice(
    stripe_sim, admin_client, user, assert_audit_clean
):
    buy(stripe_sim, user)
    event = StripeEvent.objects.get(type="checkout.session.completed")

    response = act(admin_client, "admin:webhooks_stripeevent_changelist", "process_again", event.pk)

    assert "1 already_granted" in response.content.decode()
    assert balance_of(user) == 200
    assert_audit_clean()


def test_the_user_page_shows_orders_and_debt(stripe_sim, admin_client, user):
    buy(stripe_sim, user)
    page = admin_client.get(reverse("admin:wan_pwa_user_change", args=[user.pk])).content.decode()
    listing = admin_client.get(reverse("admin:wan_pwa_user_changelist")).content.decode()

    assert "Orders (newest first)" in page
    assert "column-debt" in listing


def test_a_stripe_key_without_a_webhook_secret_fails_the_deploy_check(settings):
    settings.STRIPE_SECRET_KEY = "sk_live_x"
    settings.STRIPE_WEBHOOK_SECRET = ""
    assert "credits.E001" in [m.id for m in run_checks(include_deployment_checks=True)]
    settings.STRIPE_WEBHOOK_SECRET = "whsec_x"
    assert "credits.E001" not in [m.id for m in run_checks(include_deployment_checks=True)]


def test_the_command_refunds_and_disputes_on_a_running_simulator(
    stripe_sim, user, capsys, assert_audit_clean
):
    order = buy(stripe_sim, user, 500)
    port = stripe_sim.base_url.rsplit(":", 1)[1]

    call_command(
        "stripe_simulator", "refund", order.payment_intent_id, "--amount", "400", "--port", port
    )
    call_command("stripe_simulator", "dispute", order.payment_intent_id, "--port", port)
    dispute_id = capsys.readouterr().out.split()[-2].rstrip(":")
    call_command("stripe_simulator", "lose", dispute_id, "--port", port)
    deliver_all(stripe_sim)

    order.refresh_from_db()
    assert (order.amount_refunded, order.dispute_status, order.credits_recovered) == (
        400,
        "lost",
        500,
    )
    assert balance_of(user) == 100
    with pytest.raises(CommandError, match="already lost"):
        call_command("stripe_simulator", "win", dispute_id, "--port", port)
    assert_audit_clean()
