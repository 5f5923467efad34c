"""Keyboard use, visible focus, reduced motion and dark mode, checked in the browser."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from generations.models import Status
from tests.browser.chromium import log_in
from tests.factories import make_generation

pytestmark = pytest.mark.browser

DESCRIBE_FOCUS = """() => {
    const element = document.activeElement;
    // a segmented radio shows its focus on the label text drawn next to it
    const shown = element.matches("input[type=radio]") ? element.nextElementSibling : element;
    const style = getComputedStyle(shown);
    return {
        name: element.name || element.textContent.trim().slice(0, 30) || element.tagName,
        outline: style.outlineStyle,
        width: parseFloat(style.outlineWidth),
    };
}"""


def test_the_create_form_is_usable_by_keyboard_with_a_visible_focus(page: Page, make_user):
    make_user("olga")
    log_in(page, "olga")
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    page.keyboard.press("Enter")
    reached = []
    for _ in range(30):
        page.keyboard.press("Tab")
        focus = page.evaluate(DESCRIBE_FOCUS)
        assert focus["outline"] != "none" and focus["width"] >= 2, focus
        reached.append(focus["name"])
        if focus["name"] == "Generate":
            break
    for control in ("kind", "prompt", "model_key", "resolution", "aspect_ratio", "Generate"):
        assert control in reached, reached

    # Arrow keys switch the kind, as in any radio group; the image field follows.
    page.get_by_role("radio", name="Text to video").focus()
    page.keyboard.press("ArrowRight")
    expect(page.get_by_role("radio", name="Image to video")).to_be_checked()
    expect(page.get_by_label("Input image")).to_be_visible()


def test_reduced_motion_stops_animations_and_dark_mode_follows_the_system(new_page, make_user):
    user = make_user("pia")
    make_generation(user, status=Status.PROCESSING)
    page = new_page()
    page.emulate_media(reduced_motion="reduce", color_scheme="dark")
    log_in(page, "pia")
    page.goto("/history/")
    spinner_animation = page.locator(".spinner").evaluate(
        "e => parseFloat(getComputedStyle(e).animationDuration)"
    )
    assert spinner_animation < 0.001
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(15, 17, 21)"
