"""The front-end figures: submission attempts (accepted ones from the roll-up, refused ones
counted as they happen), validation errors, refusals for lack of credits and image and audio
uploads by outcome, from the page and the API."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from generations import dashboard
from generations.analytics import roll_up
from tests.factories import PROMPT, audio_bytes, png_bytes, set_credits
from tests.pages import create_form
from wan_pwa.analytics.dashboard import figures

pytestmark = pytest.mark.django_db


def form_data(**overrides: Any) -> dict[str, Any]:
    """A create-page submission without an idempotency key: each post is a new attempt."""
    return create_form(idempotency_key="", **overrides)


def image(content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile("input.png", content, content_type="image/png")


def test_page_submissions_are_counted_with_their_refusals(logged_in, user):
    assert logged_in.post(reverse("create"), form_data()).status_code == 302
    assert logged_in.post(reverse("create"), form_data(prompt="short")).status_code == 422
    i2v = form_data(kind="i2v", model_key="i2v-14B")
    logged_in.post(reverse("create"), i2v | {"image": image(png_bytes((600, 400)))})
    logged_in.post(reverse("create"), i2v | {"image": image(b"not an image at all")})
    set_credits(user, 0)
    assert logged_in.post(reverse("create"), form_data()).status_code == 422

    roll_up()  # accepted submissions are counted from their rows
    data = figures("24h")
    assert dashboard.submission_attempts(data) == 5
    assert data.total("events.submission_invalid") == 2
    assert dashboard.validation_errors_per_attempt(data) == pytest.approx(2 / 5)
    assert data.totals["events.submission_refused"] == {"credits": 1}
    assert dashboard.uploads(data) == {"accepted": 1, "refused: invalid_image": 1}


def test_api_submissions_are_counted_with_their_refusals(api, user):
    body = {"model_key": "t2v-14B", "resolution": "480p", "prompt": PROMPT}
    assert api.post("/api/v1/generations/", body, format="json").status_code == 201
    assert api.post("/api/v1/generations/", {"prompt": "x"}, format="json").status_code == 400
    set_credits(user, 0)
    assert api.post("/api/v1/generations/", body, format="json").status_code == 402

    roll_up()
    data = figures("24h")
    assert dashboard.submission_attempts(data) == 3
    assert data.total("events.submission_invalid") == 1
    assert data.totals["events.submission_refused"] == {"credits": 1}


def test_the_dashboard_shows_the_front_end_figures(logged_in, staff_client):
    logged_in.post(reverse("create"), form_data(prompt="short"))
    body = staff_client.get(reverse("admin-dashboard")).content.decode()
    assert "Validation errors per attempt" in body
    assert "100.0%" in body


def test_audio_uploads_are_counted_by_outcome_and_shown(api, staff_client):
    body = {"model_key": "t2v-2.5", "resolution": "720p", "prompt": PROMPT}
    for name, content in (("song.wav", audio_bytes(4)), ("short.wav", audio_bytes(1))):
        track = SimpleUploadedFile(name, content, content_type="audio/wav")
        api.post("/api/v1/generations/", body | {"audio": track}, format="multipart")

    assert dashboard.uploads(figures("24h"), "audio") == {"accepted": 1, "refused: too_short": 1}
    page = staff_client.get(reverse("admin-dashboard")).content.decode()
    assert "Audio uploads accepted" in page and "Audio uploads refused: too_short" in page
