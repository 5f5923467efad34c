"""Auto-refill in Chromium, wired as `make run` wires it (the Stripe simulator delivering signed
webhooks, the task worker running): save a card on the simulator's setup page, turn auto-refill
on in Billing, and watch a fall below the threshold buy the pack by itself."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from credits.actions import add_credits
from credits.audit import audit_credits
from credits.models import Order, OrderStatus
from tests.browser.chromium import log_in
from tests.credits.stripe_support import PAID
from tests.waiting import wait_until

pytestmark = pytest.mark.browser


def test_a_saved_card_and_auto_refill_buy_the_pack_when_the_balance_falls(
    page: Page, make_user, stripe_live
):
    user = make_user("refiller")
    log_in(page, "refiller")
    page.goto("/settings/billing/")
    expect(page.get_by_test_id("saved-card")).to_have_text("No card saved yet.")

    page.get_by_test_id("save-card").click()
    page.wait_for_url(f"{stripe_live.base_url}/checkout/**")
    page.get_by_label("Card number").fill(PAID)
    page.get_by_role("button", name="Save card").click()
    page.wait_for_url("**/settings/billing/?card=saving**")
    expect(page.get_by_test_id("saved-card")).to_contain_text("Visa ending 4242")

    page.get_by_test_id("auto-refill-enabled").check()
    page.get_by_label("When my balance falls below").fill("50")
    page.get_by_label("Buy this pack").select_option(label="100 credits for 5.00 USD")
    page.get_by_label("At most this many times a month").fill("2")
    page.get_by_role("button", name="Save auto-refill").click()
    expect(page.get_by_text("Auto-refill saved.")).to_be_visible()

    add_credits(user, -60, description="spent")  # 40: below the threshold

    wait_until(
        lambda: Order.objects.filter(user=user, status=OrderStatus.PAID).exists(),
        timeout=20,
        what="the refill paid through its webhook",
    )
    page.goto("/settings/billing/")
    expect(page.get_by_test_id("billing-balance")).to_have_text("140")
    expect(page.get_by_test_id("orders")).to_contain_text("100 credits · auto-refill")
    expect(page.get_by_test_id("orders")).to_contain_text("Paid")
    assert audit_credits().clean
