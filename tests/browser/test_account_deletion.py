"""Deleting an account from Settings in Chromium, with the files in S3 (moto) and a video
running on the Replicate simulator: afterwards the bucket holds none of the user's files, the
running video was refunded once, and the ledger audit is clean."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from generations.models import Generation, Status
from tests.browser.chromium import log_in
from tests.factories import PASSWORD, make_generation
from tests.generations.lifecycle_helpers import refunds_of, submit
from tests.waiting import wait_until
from wan_pwa.accounts.models import User

pytestmark = pytest.mark.browser


def test_delete_an_account_from_settings(
    page: Page, app: str, object_storage, make_user, assert_audit_clean
):
    zoe = make_user("zoe")
    make_generation(zoe, model_key="i2v-14B")  # its image, video and poster are in the bucket
    running = submit(zoe, "A lighthouse in a storm, waves crashing [hang]")
    wait_until(
        lambda: Generation.objects.get(pk=running.pk).status == Status.PROCESSING,
        timeout=20,
        what="the simulator to start the video",
    )
    assert len(object_storage.keys()) == 3

    log_in(page, "zoe")
    page.goto("/settings/")
    page.get_by_test_id("delete-account").click()
    expect(page.get_by_role("heading", name="This cannot be undone")).to_be_visible()
    page.get_by_label("Current password").fill("wrong password")
    page.get_by_test_id("delete-account-confirm").click()
    expect(page.get_by_text("That is not your current password.")).to_be_visible()
    assert User.objects.get(pk=zoe.pk).is_active

    page.get_by_label("Current password").fill(PASSWORD)
    page.get_by_test_id("delete-account-confirm").click()
    expect(page.get_by_text("Your account was deleted. Goodbye!")).to_be_visible()
    account_nav = page.get_by_role("navigation", name="Account")
    expect(account_nav.get_by_role("link", name="Log in")).to_be_visible()  # logged out

    assert object_storage.keys() == set()
    running.refresh_from_db()
    assert running.status == Status.CANCELED and refunds_of(running) == 1
    deleted = User.objects.get(pk=zoe.pk)
    assert (deleted.username, deleted.email, deleted.is_active) == (f"deleted-{zoe.pk}", "", False)
    # The books keep every movement: the bonus, both charges and the one refund.
    types = sorted(deleted.credit_transactions.values_list("type", flat=True))
    assert types == ["bonus", "deduction", "deduction", "refund"]
    assert_audit_clean()
    page.goto("/settings/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
