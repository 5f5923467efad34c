"""The talking portrait on the create page: an image, a required track with the model's own
limits, a prompt; charged by the track's length, refused with a form error and nothing charged."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from credits.selectors import balance_of
from generations.models import Generation, Status
from generations.operations import Operation
from tests.factories import audio_bytes, make_generation, png_bytes
from tests.generations.lifecycle_helpers import stored_files
from tests.pages import CREATING_MODEL_KEYS, create_form, found

pytestmark = pytest.mark.django_db

PORTRAIT_PROMPT = "A woman sings a slow song"


def portrait_form(**overrides: Any) -> dict[str, Any]:
    return create_form(
        kind="i2v",
        model_key="s2v-2.2",
        prompt=PORTRAIT_PROMPT,
        image=SimpleUploadedFile("face.png", png_bytes((320, 320)), content_type="image/png"),
        **overrides,
    )


def track(seconds: float) -> SimpleUploadedFile:
    return SimpleUploadedFile("voice.wav", audio_bytes(seconds), content_type="audio/wav")


def test_the_create_page_offers_the_talking_portrait_with_its_own_track_limits(logged_in):
    page = logged_in.get(reverse("create")).content.decode()

    assert '<option value="s2v-2.2">Wan 2.2 talking portrait</option>' in page
    data = json.loads(found(r'id="catalog-data"[^>]*>(.*?)</script>', page, re.S)[1])
    models = {model["key"]: model for model in data["models"]}
    assert set(models) == CREATING_MODEL_KEYS | {"s2v-2.2"}
    portrait = models["s2v-2.2"]
    assert (portrait["kind"], portrait["files"]) == ("i2v", {"image": True, "audio": True})
    assert portrait["audio_limits"] == {"min_seconds": 2, "max_seconds": 60, "max_bytes": 15 << 20}
    # Its cost follows the track (4 credits per 5 s); the others' follow nothing on this page.
    assert portrait["length_follows"] == "audio"
    assert portrait["resolutions"] == [{"resolution": "480p", "credits": 4}]
    assert {m["length_follows"] for key, m in models.items() if key != "s2v-2.2"} == {""}


def test_a_talking_portrait_submitted_on_the_page_is_charged_by_its_track_and_queued(
    logged_in, user
):
    # 45 s: longer than Wan 2.5 takes (30 s), within the portrait's 60 s.
    response = logged_in.post(reverse("create"), portrait_form(audio=track(45)), follow=True)

    assert response.redirect_chain[-1][0] == reverse("history")
    generation = Generation.objects.get(user=user)
    assert (generation.model_key, generation.operation, generation.status) == (
        "s2v-2.2",
        Operation.SPEAK,
        Status.QUEUED,
    )
    assert generation.parent is None
    assert generation.input_image and generation.input_audio.name.endswith(".wav")
    # $0.02 a second of a video as long as its track: 45 s is 9 clips of 4 credits.
    assert generation.cost == 36 == 100 - balance_of(user)
    assert f"Generation #{generation.pk} started: 36 credits reserved." in response.content.decode()


@pytest.mark.parametrize(
    ("audio", "message"),
    [
        ({}, "Wan 2.2 talking portrait needs an audio track (a voice or a song)."),
        (
            {"audio": 61},
            "The audio track must be between 2 and 60 seconds long; this one is 61.0 s.",
        ),
    ],
)
def test_a_portrait_without_a_fitting_track_is_a_form_error_and_charges_nothing(
    logged_in, user, isolated_media, audio: dict[str, float], message
):
    form = portrait_form(**{name: track(seconds) for name, seconds in audio.items()})
    response = logged_in.post(reverse("create"), form)

    assert response.status_code == 422
    page = response.content.decode()
    assert message in page
    assert 'class="field has-error" id="field-audio"' in page
    assert "The video was not started: check the highlighted fields." in page
    # The page is drawn for the portrait: its track is not called optional.
    assert "<span data-audio-optional hidden> (optional)</span>" in page
    assert not Generation.objects.exists()
    assert balance_of(user) == 100
    assert stored_files(isolated_media) == []


def test_a_portrait_is_remixed_on_the_create_page_with_its_image_and_track(logged_in, user):
    source = make_generation(
        user, model_key="s2v-2.2", operation=Operation.SPEAK, audio=audio_bytes(12.5)
    )
    detail = logged_in.get(reverse("detail", args=[source.pk])).content.decode()
    remix_url = f"{reverse('create')}?remix={source.pk}"
    assert f'href="{remix_url}"' in detail

    page = logged_in.get(remix_url).content.decode()
    assert '<option value="s2v-2.2" selected>' in page
    form = create_form(
        kind="i2v",
        model_key="s2v-2.2",
        prompt=PORTRAIT_PROMPT,
        remix_of=str(source.pk),
        reuse_audio="on",
        idempotency_key="remix-1",
    )
    assert logged_in.post(reverse("create"), form).status_code == 302

    remix = Generation.objects.exclude(pk=source.pk).get()
    assert (remix.operation, remix.input_audio.read()) == (Operation.SPEAK, audio_bytes(12.5))
    assert remix.input_image.name != source.input_image.name  # a copy of its own
    assert remix.cost == 10  # 12.5 s of track
