"""A take in Chromium: open a finished video, Edit, change a region drawn with the mouse, and
watch the take in the tree of takes."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from generations.models import Generation, Status
from tests.browser.chromium import log_in
from tests.browser.test_generate import expect_video_plays
from tests.factories import clip_bytes, make_generation, set_credits

pytestmark = pytest.mark.browser


def test_draw_a_region_on_a_video_and_play_the_take_in_its_tree(page: Page, make_user):
    user = make_user("vera")
    source = make_generation(user, prompt="A sailing boat on a calm lake", video=clip_bytes(2.0))
    set_credits(user, 100)
    log_in(page, "vera")

    page.goto(f"/generations/{source.pk}/")
    page.get_by_role("link", name="Edit", exact=True).click()
    page.get_by_role("link", name="Change a region").click()
    expect(page.get_by_role("link", name="Change a region")).to_have_attribute(
        "aria-current", "page"
    )
    expect(page.locator("[data-cost]")).to_have_text("40")

    # Drawn from the middle of the frame to its bottom right corner, with the mouse.
    frame = page.locator("[data-region]")
    expect(frame.locator("img")).to_be_visible()
    box = frame.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.5)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.75, box["y"] + box["height"] * 0.75, steps=4)
    page.mouse.move(box["x"] + box["width"] * 0.99, box["y"] + box["height"] * 0.99, steps=4)
    page.mouse.up()
    expect(page.locator("[data-region-box]")).to_be_visible()
    assert float(page.get_by_label("Left edge").input_value()) == pytest.approx(0.5, abs=0.02)
    assert float(page.get_by_label("Width").input_value()) == pytest.approx(0.49, abs=0.02)

    page.get_by_label("What to put in the region").fill("A bright red balloon in the sky")
    page.get_by_role("button", name="Make a take").click()

    expect(page.get_by_text(re.compile(r"Take #\d+ started: 40 credits reserved"))).to_be_visible()
    take = Generation.objects.get(parent=source)
    page.wait_for_url(f"**/generations/{take.pk}/")
    expect(page.get_by_text(f"Generation #{take.pk} is ready.")).to_be_visible()
    assert Generation.objects.get(pk=take.pk).status == Status.SUCCEEDED

    page.reload()
    tree = page.get_by_test_id("takes")
    expect(tree.get_by_test_id(f"take-{source.pk}")).to_be_visible()
    current = tree.get_by_test_id(f"take-{take.pk}")
    expect(current).to_have_attribute("aria-current", "true")
    expect(current).to_contain_text("Change a region")
    expect_video_plays(page, current.locator("video"))
    expect(page.get_by_test_id("credit-balance")).to_have_text("60 credits")
