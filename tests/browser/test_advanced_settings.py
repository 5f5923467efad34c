"""Advanced settings in Chromium: each model shows only its own controls, with its ranges from the
catalog, the cost follows the clip length, and what is chosen reaches the generation."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from generations.models import Generation
from tests.browser.chromium import log_in

pytestmark = pytest.mark.browser

PROMPT = "A hot-air balloon rising over a misty valley at sunrise"


def test_each_model_shows_its_own_settings_and_the_cost_follows_the_length(page: Page, make_user):
    make_user("hana")
    log_in(page, "hana")
    page.get_by_text("Advanced settings").click()
    steps = page.get_by_label("Sampling steps")
    expect(steps).to_be_visible()  # t2v-14B, the default
    expect(steps).to_have_attribute("max", "40")
    expect(page.get_by_label("LoRA weights")).to_be_visible()
    expect(page.get_by_label("Clip length (seconds)")).to_be_hidden()

    page.get_by_label("Model").select_option("t2v-1.3B")
    expect(steps).to_have_attribute("min", "10")
    expect(steps).to_have_attribute("max", "50")
    expect(page.get_by_label("Negative prompt")).to_be_hidden()
    expect(page.get_by_label("LoRA weights")).to_be_hidden()
    expect(page.get_by_label("Clip length (frames)")).to_be_visible()

    page.get_by_label("Model").select_option("t2v-2.5")
    page.get_by_label("Resolution").select_option("720p")
    expect(page.locator("[data-cost]")).to_have_text("20")
    page.get_by_label("Clip length (seconds)").select_option("10")
    expect(page.locator("[data-cost]")).to_have_text("40")
    expect(steps).to_be_hidden()

    page.get_by_label("Prompt", exact=True).fill(PROMPT)
    page.get_by_label("Prompt expansion").select_option("false")
    page.get_by_role("button", name="Generate").click()
    page.wait_for_url("**/history/")

    generation = Generation.objects.get()
    assert (generation.model_key, generation.cost) == ("t2v-2.5", 40)
    assert generation.options == {"duration": 10, "prompt_expansion": False}
