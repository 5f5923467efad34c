"""Buying credits in Chromium: Settings -> Billing -> the Stripe simulator's hosted page (a
declined card first, then a good one) -> back on our success page with the balance risen; and a
card that pays later, where the success page polls until the webhook credits the order; and
turning back from the checkout page, which cancels the order."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from credits.audit import audit_credits
from credits.models import Order, OrderStatus
from tests.browser.chromium import log_in
from tests.credits.stripe_support import DECLINED, PAID, PAYS_LATER

pytestmark = pytest.mark.browser


def pay_with(page: Page, card: str) -> None:
    page.get_by_label("Card number").fill(card)
    page.get_by_role("button", name="Pay").click()


def test_buying_a_pack_on_the_checkout_page_raises_the_balance(page: Page, make_user, stripe_live):
    make_user("buyer")
    log_in(page, "buyer")
    page.goto("/settings/")
    page.get_by_test_id("buy-credits").click()
    page.get_by_role("button", name="Buy 500 credits").click()

    page.wait_for_url(f"{stripe_live.base_url}/checkout/**")
    expect(page.get_by_role("button", name="Pay 20.00 USD")).to_be_visible()
    pay_with(page, DECLINED)
    expect(page.get_by_role("alert")).to_have_text("Your card was declined.")
    assert Order.objects.get().status == OrderStatus.PENDING

    pay_with(page, PAID)
    page.wait_for_url("**/settings/billing/orders/*/success/**")
    expect(page.get_by_test_id("order-status")).to_contain_text("500 credits added")
    expect(page.get_by_test_id("credit-balance")).to_have_text("600 credits")

    page.get_by_role("link", name="Receipt").click()
    expect(page.get_by_test_id("receipt")).to_contain_text("20.00 USD")
    assert audit_credits().clean


def test_a_payment_confirmed_later_updates_the_success_page_by_itself(
    page: Page, make_user, stripe_live
):
    make_user("patient")
    log_in(page, "patient")
    page.goto("/settings/billing/")
    page.get_by_role("button", name="Buy 100 credits").click()
    pay_with(page, PAYS_LATER)

    page.wait_for_url("**/success/**")
    status = page.get_by_test_id("order-status")
    expect(status).to_contain_text("Confirming your payment")
    expect(status).to_contain_text("100 credits added")  # polled in, no reload
    expect(page.get_by_test_id("success-balance")).to_have_text("200")
    page.goto("/settings/billing/")
    expect(page.get_by_test_id("orders")).to_contain_text("Paid")
    assert audit_credits().clean


def test_turning_back_from_the_checkout_page_cancels_the_order(page: Page, make_user, stripe_live):
    make_user("hesitant")
    log_in(page, "hesitant")
    page.goto("/settings/billing/")
    page.get_by_role("button", name="Buy 100 credits").click()
    page.wait_for_url(f"{stripe_live.base_url}/checkout/**")

    page.get_by_role("link", name="Back").click()

    expect(page.get_by_test_id("checkout-outcome")).to_contain_text("Nothing was charged")
    page.get_by_role("link", name="Back to Billing").click()
    expect(page.get_by_test_id("orders")).to_contain_text("Canceled")
    expect(page.get_by_test_id("orders")).not_to_contain_text("Awaiting payment")
    order = Order.objects.get()
    assert order.status == OrderStatus.CANCELED
    assert stripe_live.state.get(order.checkout_session_id, "checkout.session")["status"] == (
        "expired"
    )
