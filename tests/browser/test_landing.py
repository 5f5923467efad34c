"""The home page's gallery as a visitor meets it: featured videos play muted once on screen,
and "Remix this" leads through sign-up to the create page with the prompt."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from generations.actions.sharing import enable_sharing, feature_generation, set_feature_consent
from tests.browser.chromium import DESKTOP, PHONE, SCREENSHOTS
from tests.factories import PASSWORD, make_generation

pytestmark = pytest.mark.browser

PROMPTS = (
    "A lighthouse on a cliff as a storm rolls in",
    "Waves & foam on a black sand beach at night",
    "Paper lanterns drifting over a quiet river",
)


def test_visitors_watch_featured_videos_and_remix_one_after_signing_up(
    new_page: Callable[..., Page], make_user
):
    owner = make_user("ola")
    for prompt in PROMPTS:
        video = make_generation(owner, prompt=prompt, playable=True)
        feature_generation(set_feature_consent(enable_sharing(video), True))

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for name, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        page = new_page(viewport)
        page.goto("/")
        gallery = page.get_by_test_id("featured")
        expect(gallery.locator("video")).to_have_count(len(PROMPTS))
        first = gallery.locator("video").first
        # Posters first; nothing of a clip is fetched before it is on screen.
        expect(first).to_have_attribute("poster", f"/s/{video.share_token}/poster")
        gallery.scroll_into_view_if_needed()
        page.wait_for_function(
            "v => !v.paused && v.muted && v.currentTime > 0", arg=first.element_handle()
        )
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=SCREENSHOTS / f"landing-featured-{name}.png", full_page=True)

    # The newest featured first; its prompt goes through sign-up into the create page.
    gallery.get_by_role("link", name="Remix this").first.click()
    page.wait_for_url("**/accounts/signup/**")
    page.locator("#id_username").fill("vic")
    page.locator("#id_email").fill("vic@example.com")
    page.locator("#id_password1").fill(PASSWORD)
    page.locator("#id_password2").fill(PASSWORD)
    page.get_by_role("button", name="Sign up").click()
    page.wait_for_url("**/create/?prompt=*")
    expect(page.get_by_label("Prompt", exact=True)).to_have_value(PROMPTS[-1])


def test_with_reduced_motion_the_gallery_waits_for_a_press_of_play(
    new_page: Callable[..., Page], make_user
):
    video = make_generation(make_user("pia"), prompt=PROMPTS[0], playable=True)
    feature_generation(set_feature_consent(enable_sharing(video), True))
    page = new_page(PHONE)
    page.emulate_media(reduced_motion="reduce")
    page.goto("/")
    # A private window is offered no install: the header's button stays hidden.
    expect(page.get_by_role("button", name="Install app")).to_be_hidden()
    clip = page.get_by_test_id("featured").locator("video")
    clip.scroll_into_view_if_needed()
    page.wait_for_timeout(500)
    assert clip.evaluate("v => v.paused && v.readyState === 0")
