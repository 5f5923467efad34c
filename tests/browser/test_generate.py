"""From sign-up to a playing video, image-to-video by drag and drop, and the form's checks."""

from __future__ import annotations

import base64
import re

import pytest
from playwright.sync_api import Locator, Page, Route, expect

from credits.selectors import balance_of
from generations.catalog import SEED_MAX
from generations.models import Generation, Status
from tests.browser.chromium import DESKTOP, PHONE, SCREENSHOTS, log_in, sign_up_and_verify
from tests.factories import png_bytes

pytestmark = pytest.mark.browser

PROMPT = "A paper boat drifting down a rainy street at dusk"


def newest_card(page: Page) -> Locator:
    return page.get_by_test_id("generation-card").first


def expect_video_plays(page: Page, video: Locator) -> None:
    """The video element has loaded real media: Chromium reports its duration."""
    expect(video).to_be_visible()
    video.evaluate("v => { v.muted = true; return v.play(); }")
    page.wait_for_function(
        "v => v.readyState >= 1 && v.duration > 0 && !v.error", arg=video.element_handle()
    )


def test_sign_up_verify_create_watch_progress_and_play(page: Page, mailbox, django_user_model):
    sign_up_and_verify(page, mailbox, "dora")
    balance = page.get_by_test_id("credit-balance")
    expect(balance).to_have_text("100 credits")
    expect(page.get_by_text("100 free credits are in your balance")).to_be_visible()

    page.get_by_label("Prompt", exact=True).fill(PROMPT)
    expect(page.locator("[data-prompt-count]")).to_have_text(f"{len(PROMPT)}/500")
    expect(page.locator("[data-cost]")).to_have_text("10")
    page.get_by_role("button", name="Generate").click()

    page.wait_for_url("**/history/")
    expect(
        page.get_by_text(re.compile(r"Generation #\d+ started: 10 credits reserved"))
    ).to_be_visible()
    expect(balance).to_have_text("90 credits")
    # The toast leaves History's own button free to press (Playwright checks what the click hits).
    for viewport in (PHONE, DESKTOP):
        page.set_viewport_size(viewport)
        page.get_by_role("link", name="New video").click(trial=True, timeout=2000)
    card = newest_card(page)
    expect(card.get_by_text(PROMPT)).to_be_visible()
    # In flight it shows a live progress bar, which the polling fills in as the model works.
    expect(card.locator("progress")).to_be_visible()
    expect(card).to_have_attribute("data-status", "succeeded")
    expect(page.get_by_text(re.compile(r"Generation #\d+ is ready\."))).to_be_visible()
    expect(card.locator("progress")).to_have_count(0)
    expect_video_plays(page, card.locator("video"))
    expect(balance).to_have_text("90 credits")

    user = django_user_model.objects.get(username="dora")
    assert balance_of(user) == 90
    assert Generation.objects.get(user=user).status == Status.SUCCEEDED


def drop_image(page: Page, data: bytes, name: str, mime: str) -> None:
    """A real drop event carrying a file, as when dragging from the desktop."""
    page.locator("[data-dropzone]").evaluate(
        """(zone, [b64, name, mime]) => {
            const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
            const transfer = new DataTransfer();
            transfer.items.add(new File([bytes], name, { type: mime }));
            const init = { bubbles: true, cancelable: true, dataTransfer: transfer };
            for (const type of ["dragenter", "dragover", "drop"]) {
                zone.dispatchEvent(new DragEvent(type, init));
            }
        }""",
        [base64.b64encode(data).decode(), name, mime],
    )


def test_image_to_video_with_a_dropped_image(page: Page, make_user):
    make_user("erin")
    log_in(page, "erin")
    expect(page.locator("[data-needs-image]")).to_be_hidden()
    page.get_by_role("radio", name="Image to video").check()
    expect(page.locator("[data-needs-image]")).to_be_visible()
    expect(page.get_by_label("Model")).to_have_value("i2v-14B")

    drop_image(page, png_bytes((320, 180)), "lighthouse.png", "image/png")
    expect(page.locator("[data-preview]")).to_be_visible()
    assert page.get_by_label("Input image").evaluate("input => input.files[0].name") == (
        "lighthouse.png"
    )
    page.get_by_label("Prompt", exact=True).fill("The lighthouse beam sweeps across a stormy sea")
    page.get_by_label("Resolution").select_option("720p")
    expect(page.locator("[data-cost]")).to_have_text("20")
    page.get_by_role("button", name="Generate").click()

    page.wait_for_url("**/history/")
    card = newest_card(page)
    expect(card).to_contain_text("Image to video")
    expect(card).to_have_attribute("data-status", "succeeded")
    expect_video_plays(page, card.locator("video"))
    expect(page.get_by_test_id("credit-balance")).to_have_text("80 credits")


def watch_upload_progress(page: Page) -> None:
    """Records on <html> (which no swap replaces) what the upload progress bar showed."""
    page.evaluate(
        """() => {
            const root = document.documentElement;
            document.addEventListener("htmx:xhr:loadstart", () => {
                const box = document.querySelector("[data-upload-progress]");
                root.dataset.progressShown = String(!box.hidden);
            });
            document.addEventListener("htmx:xhr:progress", (event) => {
                const bar = document.querySelector("[data-upload-progress] progress");
                root.dataset.uploaded = String(bar.value);
            });
        }"""
    )


def count_posts(page: Page) -> list[str]:
    """The form submissions the page sends, as they leave it."""
    posts: list[str] = []
    page.on(
        "request", lambda request: posts.append(request.url) if request.method == "POST" else None
    )
    return posts


def test_checks_on_the_prompt_and_the_image(page: Page, make_user):
    user = make_user("finn")
    log_in(page, "finn")
    posts = count_posts(page)
    prompt = page.get_by_label("Prompt", exact=True)
    prompt.fill("Too short")
    expect(page.locator("[data-prompt-count]")).to_have_class(re.compile("is-invalid"))
    # Caught in the browser, with the server's sentence: nothing is sent.
    page.get_by_role("button", name="Generate").click()
    expect(
        page.get_by_text("The prompt must be 10 to 500 characters long (it is 9).")
    ).to_be_visible()
    expect(prompt).to_have_attribute("aria-invalid", "true")
    expect(prompt).to_be_focused()
    assert posts == []

    page.get_by_role("radio", name="Image to video").check()
    prompt.fill("A field of sunflowers turning towards the sun")
    expect(page.get_by_text("The prompt must be")).to_be_hidden()
    page.get_by_role("button", name="Generate").click()
    expect(page.get_by_text("Image-to-video needs an input image.")).to_be_visible()
    # The wrong type, and an image too small for the model, never leave the page either.
    drop_image(page, b"just some text", "notes.txt", "text/plain")
    expect(page.get_by_text("Only JPEG, PNG and WebP images are accepted.")).to_be_visible()
    expect(page.locator("[data-preview]")).to_be_hidden()
    drop_image(page, png_bytes((32, 48)), "tiny.png", "image/png")
    expect(page.get_by_text("The image must be at least 64 pixels on each side.")).to_be_visible()
    assert page.get_by_label("Input image").evaluate("input => input.files.length") == 0
    page.get_by_role("button", name="Generate").click()
    assert posts == []

    # Caught by the server: a file that only pretends to be a PNG (the browser cannot decode it,
    # so it leaves the judgement to the server), which is then not offered again.
    page.get_by_label("Input image").set_input_files(
        {"name": "fake.png", "mimeType": "image/png", "buffer": b"not really a png at all"}
    )
    watch_upload_progress(page)
    page.get_by_role("button", name="Generate").click()
    expect(page.get_by_text("This file is not a valid JPEG, PNG or WebP image.")).to_be_visible()
    expect(
        page.get_by_text("The video was not started: check the highlighted fields.")
    ).to_be_visible()
    assert page.get_by_label("Input image").evaluate("input => input.files.length") == 0
    # The upload showed its progress bar and went all the way.
    assert page.evaluate("document.documentElement.dataset.progressShown") == "true"
    assert page.evaluate("document.documentElement.dataset.uploaded") == "100"
    assert len(posts) == 1
    assert not Generation.objects.filter(user=user).exists()
    assert balance_of(user) == 100


def test_a_refused_submission_keeps_the_image_and_every_field(page: Page, make_user):
    user = make_user("hana")
    log_in(page, "hana")
    page.get_by_role("radio", name="Image to video").check()
    drop_image(page, png_bytes((320, 180)), "harbour.png", "image/png")
    expect(page.locator("[data-preview]")).to_be_visible()
    prompt = "Fishing boats rocking gently in a misty harbour at dawn"
    page.get_by_label("Prompt", exact=True).fill(prompt)
    page.get_by_label("Resolution").select_option("720p")
    page.get_by_text("Advanced settings").click()
    page.get_by_label("Negative prompt").fill("text, watermark")
    # A seed past the largest one: only the server checks it.
    page.get_by_label("Seed").fill(str(SEED_MAX + 1))
    page.get_by_role("button", name="Generate").click()

    expect(
        page.get_by_text("The video was not started: check the highlighted fields.")
    ).to_be_visible()
    expect(page.get_by_label("Seed")).to_have_attribute("aria-invalid", "true")
    # Everything the person gave is still there, the image chosen and shown.
    image = page.get_by_label("Input image")
    assert image.evaluate("input => input.files[0] && input.files[0].name") == "harbour.png"
    expect(page.locator("[data-preview]")).to_be_visible()
    expect(page.get_by_role("radio", name="Image to video")).to_be_checked()
    expect(page.get_by_label("Prompt", exact=True)).to_have_value(prompt)
    expect(page.get_by_label("Resolution")).to_have_value("720p")
    expect(page.get_by_label("Negative prompt")).to_have_value("text, watermark")
    expect(page.locator("[data-cost]")).to_have_text("20")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for name, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
        page.set_viewport_size(viewport)
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=SCREENSHOTS / f"create-refused-{name}.png", full_page=True)
    assert not Generation.objects.filter(user=user).exists()

    page.get_by_label("Seed").fill("42")
    page.get_by_role("button", name="Generate").click()
    page.wait_for_url("**/history/")
    generation = Generation.objects.get(user=user)
    assert (generation.prompt, generation.seed, generation.resolution) == (prompt, 42, "720p")
    assert generation.input_image.name.endswith(".png")
    expect(page.get_by_test_id("credit-balance")).to_have_text("80 credits")


def test_a_submission_lost_on_the_network_offers_retry_and_makes_one_video(page: Page, make_user):
    user = make_user("gus")
    log_in(page, "gus")
    page.get_by_label("Prompt", exact=True).fill("Snow falling on a quiet mountain village")

    def drop_posts(route: Route) -> None:
        if route.request.method == "POST":
            route.abort("connectionreset")
        else:
            route.continue_()

    page.route("**/create/", drop_posts)
    page.get_by_role("button", name="Generate").click()
    toast = page.locator(".toast-error").filter(has_text="could not be reached")
    expect(toast).to_be_visible()
    page.unroute("**/create/")
    toast.get_by_role("button", name="Retry").click()
    page.wait_for_url("**/history/")
    expect(page.get_by_test_id("generation-card")).to_have_count(1)
    assert Generation.objects.filter(user=user).count() == 1
