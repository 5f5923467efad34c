"""A take in Chromium: open a finished video, Edit, change a region drawn with the mouse, and
watch the take in the tree of takes."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from generations.models import Generation, Status
from tests.browser.chromium import PHONE, log_in
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


def test_on_a_phone_the_region_is_typed_and_the_cost_follows_the_controls(
    new_page: Callable[..., Page], make_user
):
    user = make_user("wes")
    source = make_generation(user, prompt="A kite over the beach", video=clip_bytes(2.0))
    page = new_page(PHONE)
    log_in(page, "wes")

    page.goto(f"/generations/{source.pk}/edit/region/")
    page.get_by_label("Left edge").focus()
    for value in ("0.1", "0.2", "0.3", "0.4"):  # left, top, width, height, by keyboard
        page.keyboard.type(value)
        page.keyboard.press("Tab")
    region = page.locator("[data-region-box]")
    expect(region).to_be_visible()
    assert region.evaluate("box => box.style.left") == "10%"
    assert region.evaluate("box => box.style.height") == "40%"

    page.get_by_role("link", name="Edit by instruction").click()
    expect(page.locator("[data-cost]")).to_have_text("8")  # the whole 2 s source at 720p
    page.locator("summary").click()
    expect(page.get_by_label("Fast mode")).to_be_hidden()  # another operation's control
    page.get_by_label("Clip length (seconds)").select_option("4")
    expect(page.locator("[data-cost]")).to_have_text("16")
    page.get_by_label("Instruction").fill("Make it a stormy evening")
    page.get_by_role("button", name="Make a take").click()
    expect(page.get_by_text("The source is 2.0 s long")).to_be_visible()
    expect(page.get_by_text("The take was not started")).to_be_visible()
