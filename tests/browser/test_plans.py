"""A monthly plan in Chromium: Billing -> Subscribe -> the simulator's checkout page -> back in
Billing with the plan and its credits; then Manage plan -> the simulator's portal -> cancel ->
back in Billing, which says when the plan ends."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from credits.audit import audit_credits
from credits.models import Subscription
from credits.simulator import StripeSimulator
from tests.browser.chromium import log_in
from tests.browser.test_billing import pay_with
from tests.credits.plan_support import plan
from tests.credits.stripe_support import PAID

pytestmark = pytest.mark.browser


def test_subscribing_shows_the_plan_and_credits_and_the_portal_cancels_it(
    page: Page,
    make_user,
    stripe_live: StripeSimulator,
):
    make_user("subscriber")
    starter = plan("Starter")
    log_in(page, "subscriber")
    page.goto("/settings/billing/")
    page.get_by_role("button", name="Subscribe to Starter").click()

    page.wait_for_url(f"{stripe_live.base_url}/checkout/**")
    expect(page.get_by_text("Starter (every month)")).to_be_visible()
    pay_with(page, PAID)
    page.wait_for_url("**/settings/billing/?plan=started")
    expect(page.get_by_test_id("current-plan")).to_contain_text("Your plan: Starter")
    expect(page.get_by_test_id("plan-next")).to_contain_text("Renews on")
    expect(page.get_by_test_id("credit-balance")).to_have_text(f"{100 + starter.credits} credits")
    expect(page.get_by_test_id("plan-invoices")).to_contain_text(str(starter.credits))

    page.get_by_role("button", name="Manage plan").click()
    page.wait_for_url(f"{stripe_live.base_url}/portal/**")
    page.get_by_role("button", name="Cancel plan").click()
    expect(page.get_by_text("Ends on")).to_be_visible()
    page.get_by_role("link", name="Return to the site").click()
    page.wait_for_url("**/settings/billing/")
    expect(page.get_by_test_id("plan-next")).to_contain_text("Your plan ends on")
    assert Subscription.objects.get().cancel_at_period_end
    assert audit_credits().clean
