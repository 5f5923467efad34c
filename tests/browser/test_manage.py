"""Managing generations in the browser: cancel and retry, a failure's toast, delete, star and
filter, other users' 404, and share links."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from credits.selectors import balance_of
from generations.models import Generation, Status
from tests.browser.chromium import log_in
from tests.factories import make_generation

pytestmark = pytest.mark.browser


def create(page: Page, prompt: str) -> None:
    page.goto("/create/")
    page.get_by_label("Prompt", exact=True).fill(prompt)
    page.get_by_role("button", name="Generate").click()
    page.wait_for_url("**/history/")


def test_cancel_refunds_and_retry_charges_again(page: Page, make_user):
    user = make_user("gina")
    log_in(page, "gina")
    create(page, "A clock tower that never strikes twelve [hang]")
    card = page.get_by_test_id("generation-card").first
    expect(card).to_have_attribute("data-status", "processing")
    expect(page.get_by_test_id("credit-balance")).to_have_text("90 credits")

    card.get_by_role("button", name="Cancel").click()
    expect(card).to_have_attribute("data-status", "canceled")
    expect(card.get_by_test_id("failure")).to_contain_text("10 credits were refunded.")
    expect(page.get_by_test_id("credit-balance")).to_have_text("100 credits")
    expect(page.get_by_text(re.compile(r"Canceling #\d+; its credits come back\."))).to_be_visible()

    card.get_by_role("button", name="Retry").click()
    page.wait_for_url("**/history/")
    expect(page.get_by_text(re.compile(r"Retrying #\d+ as #\d+"))).to_be_visible()
    expect(page.get_by_test_id("generation-card")).to_have_count(2)
    retry = page.get_by_test_id("generation-card").first
    expect(retry).to_have_attribute("data-status", "processing")
    expect(page.get_by_test_id("credit-balance")).to_have_text("90 credits")
    retry.get_by_role("button", name="Cancel").click()
    expect(retry).to_have_attribute("data-status", "canceled")

    original, again = Generation.objects.filter(user=user).order_by("pk")
    assert again.retried_from_id == original.pk
    assert {original.status, again.status} == {Status.CANCELED}
    assert balance_of(user) == 100


def test_a_failure_toasts_with_retry(page: Page, make_user):
    make_user("hugo")
    log_in(page, "hugo")
    create(page, "A glass bridge over a canyon of fog [fail]")
    card = page.get_by_test_id("generation-card").first
    expect(card).to_have_attribute("data-status", "failed")
    toast = page.locator(".toast-error").filter(has_text="failed")
    expect(toast).to_contain_text("10 credits were refunded.")
    expect(page.get_by_test_id("credit-balance")).to_have_text("100 credits")
    toast.get_by_role("button", name="Retry").click()
    page.wait_for_url("**/history/")
    expect(page.get_by_test_id("generation-card")).to_have_count(2)


def test_star_filter_and_delete(page: Page, make_user):
    user = make_user("iris")
    keep = make_generation(user, prompt="A hummingbird hovering over a red flower")
    drop = make_generation(user, prompt="A snail crossing a mossy log very slowly")
    log_in(page, "iris")
    page.goto("/history/")
    keep_card = page.locator(f"#generation-{keep.pk}")
    keep_card.get_by_role("button", name=f"Star #{keep.pk}").click()
    expect(keep_card.get_by_test_id("star")).to_have_attribute("aria-pressed", "true")
    expect(page.get_by_text(f"Starred #{keep.pk}.")).to_be_visible()

    page.get_by_label("Starred only").check()
    expect(page).to_have_url(re.compile(r"starred=1"))
    expect(page.get_by_test_id("generation-card")).to_have_count(1)
    expect(page.get_by_test_id("generation-card")).to_contain_text("hummingbird")
    page.get_by_label("Starred only").uncheck()
    expect(page.get_by_test_id("generation-card")).to_have_count(2)
    page.get_by_label("Status").select_option("failed")
    expect(page.get_by_text("No generations match these filters.")).to_be_visible()
    page.get_by_label("Status").select_option("")

    page.locator(f"#generation-{drop.pk}").get_by_role("button", name="Delete").click()
    expect(page.locator(f"#generation-{drop.pk}")).to_have_count(0)
    expect(page.get_by_text(f"Deleted #{drop.pk} and its files.")).to_be_visible()
    page.reload()
    expect(page.get_by_test_id("generation-card")).to_have_count(1)
    drop.refresh_from_db()
    assert drop.deleted_at is not None and not drop.video


def test_bulk_download_and_delete(page: Page, make_user):
    user = make_user("jack")
    first, second = make_generation(user), make_generation(user)
    log_in(page, "jack")
    page.goto("/history/")
    expect(page.get_by_role("button", name="Download ZIP")).to_be_disabled()
    page.get_by_label("Select all").check()
    expect(page.get_by_text("2 selected")).to_be_visible()
    with page.expect_download() as download:
        page.get_by_role("button", name="Download ZIP").click()
    assert download.value.suggested_filename == "wan-videos.zip"
    page.get_by_role("button", name="Delete selected").click()
    expect(page.get_by_text("Deleted 2 generations.")).to_be_visible()
    expect(page.get_by_test_id("generation-card")).to_have_count(0)
    assert not Generation.objects.owned_by(user).filter(pk__in=[first.pk, second.pk]).exists()


def test_another_user_gets_a_404(new_page, make_user):
    owner = make_user("kate")
    private = make_generation(owner, prompt="Kate's private video of her garden")
    make_user("leo")
    page = new_page()
    log_in(page, "leo")
    response = page.goto(f"/generations/{private.pk}/")
    assert response.status == 404
    expect(page.get_by_text("There is nothing here")).to_be_visible()
    assert page.request.get(f"/generations/{private.pk}/files/video").status == 404


def test_share_link_works_logged_out_until_revoked(new_page, make_user):
    owner = make_user("mona")
    shared = make_generation(owner, prompt="Fireflies over a summer meadow", playable=True)
    page = new_page()
    log_in(page, "mona")
    page.goto(f"/generations/{shared.pk}/")
    page.get_by_role("button", name="Create share link").click()
    share_url = page.get_by_test_id("share-url").input_value()
    assert re.fullmatch(r"http://[^/]+/s/[A-Za-z0-9_-]{32,}/", share_url)

    visitor = new_page()
    assert visitor.goto(share_url).status == 200
    expect(visitor.get_by_test_id("prompt")).to_have_text("Fireflies over a summer meadow")
    video = visitor.locator("video")
    visitor.wait_for_function("v => v.duration > 0", arg=video.element_handle())
    expect(visitor.get_by_role("link", name="Log in")).to_be_visible()  # not logged in

    page.get_by_role("button", name="Revoke link").click()
    expect(page.get_by_text("Share link revoked")).to_be_visible()
    assert visitor.goto(share_url).status == 404
