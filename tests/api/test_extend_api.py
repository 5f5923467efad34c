"""Extend and first and last frame over the REST API: what is stored, charged and sent to each
model, and what is refused (with nothing charged)."""

from __future__ import annotations

import io
from typing import Any

import av
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, ImageChops, ImageStat

from credits.selectors import balance_of
from generations.lifecycle.transitions import cancel_generation
from generations.models import Generation
from generations.operations import Operation
from generations.replicate.inputs import prediction_input
from tests.api.test_takes_api import field_errors, source_of, upload
from tests.factories import clip_bytes, make_generation, png_bytes

pytestmark = pytest.mark.django_db

URL = "/api/v1/generations/"
PROMPT = "The camera keeps moving along the shore"
EXTEND = {"model_key": "i2v-2.2-fast", "resolution": "480p", "operation": "extend"}
URLS = {"image": "https://files/first", "end_image": "https://files/end"}


def image(data: bytes | None = None, name: str = "end.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, png_bytes() if data is None else data, "image/png")


def last_frame(video: bytes) -> Image.Image:
    with av.open(io.BytesIO(video), "r") as container:
        *_, last = container.decode(video=0)
        return last.to_image()


def test_an_extension_starts_from_the_last_frame_of_its_source_at_the_models_price(api, user):
    video = clip_bytes(2.0, sound=True)
    source = make_generation(user, video=video)
    before = balance_of(user)

    response = api.post(
        URL, {**EXTEND, "source_generation": source.pk, "prompt": PROMPT}, format="json"
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["operation"], body["parent"], body["kind"]) == ("extend", source.pk, "i2v")
    # The new part's price: the model's for a clip, whatever the source's length.
    assert body["cost"] == before - balance_of(user) == 5
    take = Generation.objects.get(pk=body["id"])
    assert take.input_video  # its own copy of the source, joined to the new clip later
    stored = Image.open(take.input_image.open("rb")).convert("RGB")
    assert max(ImageStat.Stat(ImageChops.difference(stored, last_frame(video))).mean) < 1
    # The model gets the image and never the video.
    assert prediction_input(take, {"image": URLS["image"]}) == {
        "prompt": PROMPT,
        "num_frames": 81,
        "resolution": "480p",
        "image": URLS["image"],
    }


def test_an_extension_with_an_end_image_sends_both_frames(api, user):
    source = source_of(user, seconds=2.0)

    response = api.post(
        URL,
        {**EXTEND, "source_generation": source.pk, "prompt": PROMPT, "end_image": image()},
        format="multipart",
    )

    assert response.status_code == 201, response.content
    take = Generation.objects.get(pk=response.json()["id"])
    assert prediction_input(take, URLS)["last_image"] == URLS["end_image"]


@pytest.mark.parametrize(
    ("changes", "errors"),
    [
        (
            {"image": "given"},
            {"image": ["Extend starts from the source's last frame; send no image."]},
        ),
        (
            {"model_key": "t2v-14B"},
            {"operation": ["Wan 2.1 text-to-video 14B does not extend; it does: create."]},
        ),
        (
            {"model_key": "edit-2.7", "resolution": "720p"},
            {"operation": ["Wan 2.7 video edit does not extend; it does: edit."]},
        ),
        (
            {"source_generation": None},
            {
                "video": [
                    "Wan 2.2 image-to-video fast needs a source video: one of yours or an upload."
                ]
            },
        ),
    ],
)
def test_an_extension_that_cannot_be_made_is_refused_and_nothing_charged(
    api, user, changes: dict[str, Any], errors: dict[str, list[str]]
):
    source = source_of(user, seconds=2.0)
    data: dict[str, Any] = {**EXTEND, "source_generation": source.pk, "prompt": PROMPT}
    data.update(changes)
    if data.get("image") == "given":
        data["image"] = image(name="first.png")
    data = {name: value for name, value in data.items() if value is not None}
    before = balance_of(user)

    response = api.post(URL, data, format="multipart")

    assert field_errors(response) == errors
    assert balance_of(user) == before
    assert Generation.objects.filter(user=user).count() == 1


def test_an_uploaded_clip_is_extended_and_another_users_video_is_not(api, user, other_user):
    others = source_of(other_user, seconds=2.0)

    made = api.post(
        URL, {**EXTEND, "prompt": PROMPT, "video": upload(clip_bytes(2.0))}, format="multipart"
    )
    refused = api.post(
        URL, {**EXTEND, "prompt": PROMPT, "source_generation": others.pk}, format="json"
    )

    assert made.status_code == 201, made.content
    assert made.json()["parent"] is None
    assert list(field_errors(refused)) == ["source_generation"]


def test_a_retried_extension_keeps_its_operation_source_and_starting_frame(api, user):
    source = source_of(user, seconds=2.0)
    first = Generation.objects.get(
        pk=api.post(
            URL, {**EXTEND, "source_generation": source.pk, "prompt": PROMPT}, format="json"
        ).json()["id"]
    )
    cancel_generation(first)

    retried = api.post(f"{URL}{first.pk}/retry/")

    assert retried.status_code == 201, retried.content
    body = retried.json()
    assert (body["operation"], body["parent"], body["cost"]) == ("extend", source.pk, 5)
    again = Generation.objects.get(pk=body["id"])
    assert again.operation == Operation.EXTEND
    assert again.input_image.open("rb").read() == first.input_image.open("rb").read()
    assert again.input_video.open("rb").read() == first.input_video.open("rb").read()


def test_wan_2_7_takes_its_end_image_as_last_frame(api, user):
    response = api.post(
        URL,
        {
            "model_key": "i2v-2.7",
            "resolution": "720p",
            "prompt": PROMPT,
            "image": image(name="first.png"),
            "end_image": image(),
        },
        format="multipart",
    )

    assert response.status_code == 201, response.content
    generation = Generation.objects.get(pk=response.json()["id"])
    assert generation.input_end_image.name.endswith(".png")
    assert prediction_input(generation, URLS) == {
        "prompt": PROMPT,
        "duration": 5,
        "resolution": "720p",
        "first_frame": URLS["image"],
        "last_frame": URLS["end_image"],
    }


@pytest.mark.parametrize(
    ("model", "end_image", "message"),
    [
        (
            "i2v-2.2-fast",
            b"not an image at all",
            "This file is not a valid JPEG, PNG or WebP image.",
        ),
        ("i2v-2.2-fast", png_bytes((32, 32)), "The image must be at least 64 pixels on each side."),
        ("i2v-14B", png_bytes(), "Wan 2.1 image-to-video 14B takes no end image."),
        ("i2v-2.5", png_bytes(), "Wan 2.5 image-to-video takes no end image."),
    ],
)
def test_an_end_image_is_refused_when_unreadable_or_the_model_takes_none(
    api, user, model: str, end_image: bytes, message: str
):
    before = balance_of(user)
    response = api.post(
        URL,
        {
            "model_key": model,
            "resolution": "480p",
            "prompt": PROMPT,
            "image": image(name="first.png"),
            "end_image": image(end_image),
        },
        format="multipart",
    )

    assert field_errors(response) == {"end_image": [message]}
    assert balance_of(user) == before


def test_the_model_list_gives_the_limits_of_a_video_an_image_to_video_model_extends(api):
    models = {model["key"]: model for model in api.get("/api/v1/models/").json()}

    assert models["i2v-2.2-fast"]["operations"] == ["create", "extend"]
    assert models["i2v-2.2-fast"]["source_limits"]["max_seconds"] == 30
    assert models["t2v-14B"]["source_limits"] is None
