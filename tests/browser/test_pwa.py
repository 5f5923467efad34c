"""The installable app: Chromium's own installability check, the service worker's offline page,
and screenshots of every main page at phone and desktop sizes."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, Playwright, expect

from generations.actions.sharing import enable_sharing
from generations.failures import FailureReason
from generations.models import Status
from tests.browser.chromium import (
    DESKTOP,
    PHONE,
    SCREENSHOTS,
    log_in,
    persistent_context,
)
from tests.factories import make_generation

pytestmark = pytest.mark.browser


def test_chromium_finds_the_app_installable_and_it_works_offline(
    playwright: Playwright, app: str, tmp_path
):
    # Installability is only judged in a normal (not incognito) profile.
    context = persistent_context(playwright, app, tmp_path / "profile")
    try:
        page = context.new_page()
        page.goto("/")
        page.evaluate("() => navigator.serviceWorker.ready.then(() => true)")
        page.reload()  # now controlled by the service worker
        page.wait_for_function("() => navigator.serviceWorker.controller !== null")
        session = context.new_cdp_session(page)
        errors = session.send("Page.getInstallabilityErrors")["installabilityErrors"]
        assert errors == []
        manifest = session.send("Page.getAppManifest")
        assert not manifest["errors"], manifest["errors"]
        # Chromium offers installing: the header's button takes the offer.
        install = page.get_by_role("button", name="Install app")
        expect(install).to_be_visible()
        install.click()  # the browser's own dialog takes over, once
        expect(install).to_be_hidden()

        context.set_offline(True)
        page.goto("/history/")
        expect(page.get_by_role("heading", name="You are offline")).to_be_visible()
        expect(page.locator("link[rel=stylesheet]")).to_have_count(1)
        assert page.evaluate("getComputedStyle(document.body).fontFamily").startswith("system-ui")
    finally:
        context.close()


PAGES = ("landing", "login", "signup", "create", "history", "detail", "settings", "shared")


def test_screenshots_of_every_main_page(new_page, make_user):
    user = make_user("nora")
    done = make_generation(user, prompt="Cherry blossoms falling on a quiet river", playable=True)
    make_generation(user, status=Status.PROCESSING, prompt="A hot-air balloon over the desert")
    make_generation(
        user,
        status=Status.FAILED,
        prompt="A city skyline made of books",
        failure_reason=FailureReason.PROVIDER_ERROR,
    )
    make_generation(
        user, prompt="Waves on a black sand beach at night", playable=True, starred=True
    )
    enable_sharing(done)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for size, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
        visitor = new_page(viewport)
        member = new_page(viewport)
        log_in(member, "nora")
        urls = {
            "landing": (visitor, "/"),
            "login": (visitor, "/accounts/login/"),
            "signup": (visitor, "/accounts/signup/"),
            "create": (member, "/create/"),
            "history": (member, "/history/"),
            "detail": (member, f"/generations/{done.pk}/"),
            "settings": (member, "/settings/"),
            "shared": (visitor, f"/s/{done.share_token}/"),
        }
        for name in PAGES:
            page, url = urls[name]
            assert page.goto(url).status == 200, url
            page.wait_for_load_state("load")
            settle_videos(page)
            page.screenshot(path=SCREENSHOTS / f"{name}-{size}.png", full_page=True)
    assert {path.name for path in SCREENSHOTS.glob("*.png")} >= {
        f"{name}-{size}.png" for name in PAGES for size in ("phone", "desktop")
    }


def settle_videos(page: Page) -> None:
    """Waits until every video shows its poster or first frame, so screenshots are stable."""
    page.wait_for_function(
        "() => [...document.querySelectorAll('video')].every(v => v.readyState >= 1)"
    )
