"""The audio track in Chromium: offered only with the Wan 2.5 models, its length checked by the
browser before upload, listened to before and after, and sent with the job."""

from __future__ import annotations

import pytest
from playwright.sync_api import Locator, Page, expect

from generations.models import Generation
from tests.browser.chromium import log_in
from tests.factories import audio_bytes, png_bytes

pytestmark = pytest.mark.browser

PROMPT = "A street musician singing under a streetlamp in the rain"


def choose(track: Locator, seconds: float) -> None:
    track.set_input_files(
        {"name": "voice.wav", "mimeType": "audio/wav", "buffer": audio_bytes(seconds)}
    )


def expect_playable(page: Page, player: Locator) -> None:
    """The audio element has loaded the real track: Chromium reports its length."""
    expect(player).to_be_visible()
    player.evaluate("a => { a.preload = 'auto'; a.load(); }")  # pages say preload="none"
    page.wait_for_function(
        "a => a.readyState >= 1 && a.duration > 3 && !a.error", arg=player.element_handle()
    )


def test_a_track_is_offered_with_wan_2_5_checked_in_the_browser_and_sent(page: Page, make_user):
    user = make_user("ines")
    log_in(page, "ines")
    track = page.get_by_label("Audio track (optional)")
    expect(track).to_be_hidden()  # t2v-14B, the default, takes none
    expect(track).to_be_disabled()

    page.get_by_label("Model").select_option("t2v-2.5")
    page.get_by_label("Resolution").select_option("720p")
    expect(track).to_be_visible()
    expect(track).to_have_attribute("accept", "audio/wav,audio/mpeg,.wav,.mp3")

    # Too short: the browser reads its length and refuses it before any upload.
    choose(track, 2.0)
    problem = "The audio track must be between 3 and 30 seconds long; this one is 2.0 s."
    expect(page.get_by_text(problem)).to_be_visible()
    expect(track).to_have_attribute("aria-invalid", "true")
    assert track.evaluate("input => input.files.length") == 0

    choose(track, 4.0)
    expect(page.get_by_text(problem)).to_be_hidden()
    expect_playable(page, page.locator("[data-audio-preview]"))

    page.get_by_label("Prompt", exact=True).fill(PROMPT)
    page.get_by_role("button", name="Generate").click()
    page.wait_for_url("**/history/")

    generation = Generation.objects.get(user=user)
    assert generation.input_audio.read() == audio_bytes(4.0)
    page.goto(f"/generations/{generation.pk}/")
    expect_playable(page, page.get_by_test_id("input-audio"))


def test_a_talking_portrait_requires_a_track_and_is_priced_by_its_length(page: Page, make_user):
    user = make_user("noor")
    log_in(page, "noor")
    page.get_by_role("radio", name="Image to video").check()
    page.get_by_label("Model").select_option("s2v-2.2")
    track = page.locator("input[name='audio']")
    expect(track).to_be_visible()
    expect(page.locator("[data-audio-optional]")).to_be_hidden()  # required: not "(optional)"
    expect(page.get_by_text("WAV or MP3, 2 to 60 seconds, at most 15 MB.")).to_be_visible()
    cost = page.locator("[data-cost]")
    expect(cost).to_have_text("\u2013")  # unknown until the track is read: the rate instead
    expect(page.locator("[data-cost-rate]")).to_have_text("(4 per 5 seconds of the track)")

    page.get_by_label("Input image").set_input_files(
        {"name": "face.png", "mimeType": "image/png", "buffer": png_bytes((320, 320))}
    )
    page.get_by_label("Prompt", exact=True).fill(PROMPT)
    page.get_by_role("button", name="Generate").click()
    missing = "Wan 2.2 talking portrait needs an audio track (a voice or a song)."
    expect(page.get_by_text(missing)).to_be_visible()  # refused before anything is uploaded

    # 45 s: too long for Wan 2.5, within the portrait's own limit; 9 clips of 4 credits.
    choose(track, 45.0)
    expect(cost).to_have_text("36")
    expect(page.get_by_text(missing)).to_be_hidden()
    # Another model checks the track against its own limits at once.
    page.get_by_label("Model").select_option("i2v-2.5")
    too_long = "The audio track must be between 3 and 30 seconds long; this one is 45.0 s."
    expect(page.get_by_text(too_long)).to_be_visible()
    page.get_by_label("Model").select_option("s2v-2.2")
    choose(track, 45.0)
    expect(page.get_by_text(too_long)).to_be_hidden()
    expect(cost).to_have_text("36")
    page.get_by_role("button", name="Generate").click()
    page.wait_for_url("**/history/")

    generation = Generation.objects.get(user=user)
    assert (generation.model_key, generation.operation, generation.cost) == ("s2v-2.2", "speak", 36)
