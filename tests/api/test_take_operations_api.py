"""Animate, replace, talking portrait and change a region over the REST API: the exact input each
model is sent, the cost charged, the mask drawn as a box or uploaded, and the refusals (each a 400
naming the field, nothing charged)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import av
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from credits.selectors import balance_of
from generations.actions.params import stored_inputs
from generations.lifecycle.transitions import cancel_generation
from generations.models import Generation
from generations.replicate.inputs import prediction_input
from tests.factories import audio_bytes, clip_bytes, make_generation, png_bytes

if TYPE_CHECKING:  # what the API client answers, named in the DRF stubs only
    from rest_framework.response import _MonkeyPatchedResponse as ApiResponse

pytestmark = pytest.mark.django_db

URL = "/api/v1/generations/"
LETTERS = {"video": "V", "image": "I", "audio": "A", "mask": "M"}
REGION = {
    "model_key": "vace-14B",
    "resolution": "480p",
    "operation": "region",
    "prompt": "A red balloon floats in the sky",
}
BOX = {"x": 0.25, "y": 0.5, "width": 0.5, "height": 0.25}


def field_errors(response: ApiResponse) -> dict[str, list[str]]:
    assert response.status_code == 400, response.content
    return response.json()["error"]["fields"]


def image(name: str = "face.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, png_bytes((320, 320)), content_type="image/png")


def track(seconds: float) -> SimpleUploadedFile:
    return SimpleUploadedFile("voice.wav", audio_bytes(seconds), content_type="audio/wav")


def video(data: bytes, name: str = "clip.mp4") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="video/mp4")


def sent(take: Generation) -> dict[str, Any]:
    """The model's input, each file the take has standing as a letter for its URL."""
    urls = {name: LETTERS[name] for name, stored in stored_inputs(take) if stored}
    return prediction_input(take, urls)


def submitted(response: ApiResponse) -> tuple[dict[str, Any], Generation]:
    assert response.status_code == 201, response.content
    body = response.json()
    return body, Generation.objects.get(pk=body["id"])


def lightness(picture: Image.Image, x: int, y: int) -> int:
    value = picture.getpixel((x, y))
    assert isinstance(value, int)  # an "L" picture
    return value


def mask_pictures(take: Generation) -> tuple[list[Image.Image], float]:
    with av.open(take.input_mask.open("rb")) as container:
        stream = container.streams.video[0]
        rate = float(stream.average_rate or 0)
        return [frame.to_image().convert("L") for frame in container.decode(stream)], rate


def test_a_box_becomes_a_mask_video_white_inside_it_as_long_as_the_source(api, user):
    source = make_generation(user, video=clip_bytes(2.0, size=(416, 240), fps=8))
    before = balance_of(user)

    body, take = submitted(
        api.post(URL, {**REGION, "source_generation": source.pk, "mask_box": BOX}, format="json")
    )

    # Billed by run time: one price per run, the deadline's.
    assert body["cost"] == 40 == before - balance_of(user)
    pictures, rate = mask_pictures(take)
    assert (len(pictures), rate, pictures[0].size) == (16, 8.0, (416, 240))
    # x 104..312, y 120..180 (even pixels): white inside, black outside, on every frame.
    for picture in (pictures[0], pictures[-1]):
        assert min(lightness(picture, *at) for at in ((106, 121), (310, 178))) > 235
        assert max(lightness(picture, *at) for at in ((96, 125), (110, 112))) < 20
        assert max(lightness(picture, *at) for at in ((320, 175), (305, 188))) < 20
    # Exactly what VACE takes: the source, the mask, the size; no reference image unless sent,
    # and none of the run settings we do not offer (speed_mode, frame_num, sample_*).
    assert sent(take) == {
        "prompt": REGION["prompt"],
        "size": "832*480",
        "src_video": "V",
        "src_mask": "M",
    }


def test_a_box_over_an_uploaded_clip_sent_as_a_form_field_with_a_reference_image(api, user):
    _, take = submitted(
        api.post(
            URL,
            {
                **REGION,
                "video": video(clip_bytes(3.0, size=(240, 432), fmt="webm")),
                "mask_box": json.dumps(BOX),
                "image": image("reference.png"),
            },
            format="multipart",
        )
    )

    # A portrait upload: a portrait size, its mask of its 24 frames, the image as a list.
    assert sent(take) == {
        "prompt": REGION["prompt"],
        "size": "480*832",
        "src_video": "V",
        "src_mask": "M",
        "src_ref_images": ["I"],
    }
    pictures, _ = mask_pictures(take)
    assert (len(pictures), pictures[0].size) == (24, (240, 432))
    assert take.parent is None


def test_a_retried_region_edit_sends_the_same_mask_with_its_own_copy(api, user):
    source = make_generation(user, video=clip_bytes(2.0))
    _, first = submitted(
        api.post(URL, {**REGION, "source_generation": source.pk, "mask_box": BOX}, format="json")
    )
    cancel_generation(first)

    body, retried = submitted(api.post(f"{URL}{first.pk}/retry/"))

    assert (body["operation"], body["parent"], body["cost"]) == ("region", source.pk, 40)
    assert retried.input_mask.name != first.input_mask.name
    # The same frames (remuxed afresh, as any mask upload is).
    again, original = mask_pictures(retried), mask_pictures(first)
    assert again[1] == original[1] and len(again[0]) == len(original[0])
    assert [p.tobytes() for p in again[0]] == [p.tobytes() for p in original[0]]
    assert sent(retried) == sent(first)


def test_an_uploaded_mask_must_be_the_sources_size_and_length(api, user):
    source = make_generation(user, video=clip_bytes(2.0, size=(416, 240)))
    region = {**REGION, "source_generation": source.pk}

    wrong_size = api.post(
        URL, {**region, "mask": video(clip_bytes(2.0, size=(320, 240)))}, format="multipart"
    )
    too_short = api.post(URL, {**region, "mask": video(clip_bytes(1.0))}, format="multipart")
    not_a_video = api.post(URL, {**region, "mask": video(b"not a video")}, format="multipart")
    both = api.post(
        URL,
        {**region, "mask": video(clip_bytes(2.0)), "mask_box": json.dumps(BOX)},
        format="multipart",
    )
    accepted = api.post(URL, {**region, "mask": video(clip_bytes(2.0))}, format="multipart")

    assert field_errors(wrong_size) == {
        "mask": ["The mask video is 320x240 pixels; it must be the source's 416x240."]
    }
    assert field_errors(too_short) == {
        "mask": ["The mask video is 1.0 s long; it must last as long as the source (2.0 s)."]
    }
    assert field_errors(not_a_video) == {
        "mask": ["This file is not a readable MP4, MOV or WebM video."]
    }
    assert field_errors(both) == {"mask": ["Send either a mask video or a mask_box, not both."]}
    submitted(accepted)
    assert Generation.objects.filter(operation="region").count() == 1


def test_a_box_outside_the_frame_too_small_or_malformed_is_refused(api, user):
    source = make_generation(user, video=clip_bytes(2.0, size=(416, 240)))
    region = {**REGION, "source_generation": source.pk}
    before = balance_of(user)

    def refused(box: Any, format: str = "json") -> dict[str, Any]:
        return field_errors(api.post(URL, {**region, "mask_box": box}, format=format))

    outside = "The box goes outside the frame: x + width and y + height must be at most 1."
    assert refused({**BOX, "x": 0.75}) == {"mask_box": [outside]}
    assert list(refused({**BOX, "x": -0.1})) == ["mask_box.x"]
    assert list(refused({**BOX, "height": 2})) == ["mask_box.height"]
    assert list(refused({"x": 0, "y": 0, "height": 1})) == ["mask_box.width"]
    assert refused({**BOX, "width": 0.01}) == {
        "mask_box": [
            "The box is smaller than 8 pixels a side on this 416x240 video; draw a larger one."
        ]
    }
    assert refused("not json", format="multipart") == {
        "mask_box": ["Send the box as a JSON object."]
    }
    assert field_errors(api.post(URL, region, format="json")) == {
        "mask": ["Wan VACE 14B region edit needs a mask: draw a box (mask_box) or upload a video."]
    }
    edit = {**region, "model_key": "edit-2.7", "resolution": "720p", "operation": "edit"}
    assert field_errors(api.post(URL, {**edit, "mask_box": BOX}, format="json")) == {
        "mask_box": ["Wan 2.7 video edit takes no mask."]
    }
    assert balance_of(user) == before


def test_a_talking_portrait_lasts_and_costs_as_long_as_its_track(api, user):
    before = balance_of(user)
    speak = {
        "model_key": "s2v-2.2",
        "resolution": "480p",
        "operation": "speak",
        "prompt": "A woman sings a slow song",
    }

    body, take = submitted(
        api.post(URL, {**speak, "image": image(), "audio": track(12.5)}, format="multipart")
    )

    # $0.02 a second of output, which lasts as long as the track: 12.5 s is 10 credits.
    assert body["cost"] == 10 == before - balance_of(user)
    assert sent(take) == {
        "prompt": speak["prompt"],
        "image": "I",
        "audio": "A",
    }
    # Its own limits, from the catalog and in the model list: up to 60 s (Wan 2.5's stop at 30).
    models = {model["key"]: model for model in api.get("/api/v1/models/").json()}
    assert models["s2v-2.2"]["audio_limits"] == {
        "min_seconds": 2,
        "max_seconds": 60,
        "max_bytes": 15 * 2**20,
    }
    assert models["t2v-2.5"]["audio_limits"]["max_seconds"] == 30
    assert models["vace-14B"]["audio_limits"] is None
    long = api.post(URL, {**speak, "image": image(), "audio": track(45)}, format="multipart")
    assert submitted(long)[0]["cost"] == 36
    too_long = api.post(URL, {**speak, "image": image(), "audio": track(61)}, format="multipart")
    assert field_errors(too_long) == {
        "audio": ["The audio track must be between 2 and 60 seconds long; this one is 61.0 s."]
    }
    noise = SimpleUploadedFile("voice.wav", b"RIFF....WAVEfmt garbage", content_type="audio/wav")
    unreadable = api.post(URL, {**speak, "image": image(), "audio": noise}, format="multipart")
    assert field_errors(unreadable) == {
        "audio": ["This file is not a valid WAV or MP3 audio file."]
    }
    without = api.post(URL, {**speak, "image": image()}, format="multipart")
    assert field_errors(without) == {
        "audio": ["Wan 2.2 talking portrait needs an audio track (a voice or a song)."]
    }


@pytest.mark.parametrize(
    ("model_key", "operation", "resolution", "sent_resolution"),
    [("animate-2.2", "animate", "480p", "480"), ("replace-2.2", "replace", "720p", "720")],
)
def test_animate_and_replace_send_the_driving_video_and_the_character(
    api, user, model_key, operation, resolution, sent_resolution
):
    source = make_generation(user, video=clip_bytes(3.0))
    asked = {
        "model_key": model_key,
        "operation": operation,
        "resolution": resolution,
        "source_generation": source.pk,
    }

    body, take = submitted(api.post(URL, {**asked, "image": image()}, format="multipart"))

    # go_fast and merge_audio are sent only when chosen (replace's two versions disagree on
    # their defaults); no prompt, which neither takes.
    assert sent(take) == {"video": "V", "character_image": "I", "resolution": sent_resolution}
    # Animate is billed by run time (its deadline's price); replace by the source's 3 s.
    assert body["cost"] == (72 if operation == "animate" else 6)
    missing = api.post(URL, asked, format="json")
    assert field_errors(missing) == {
        "image": [f"{take.get_model_key_display()} needs a character image."]
    }
    prompted = api.post(URL, {**asked, "prompt": "Dance"}, format="json")
    assert "prompt" in field_errors(prompted)


def test_another_users_source_is_not_animated_and_not_revealed(api, user, other_user):
    others = make_generation(other_user, video=clip_bytes(3.0))
    before = balance_of(user)

    animate = {"model_key": "animate-2.2", "operation": "animate", "image": image()}
    region = {**REGION, "mask_box": json.dumps(BOX)}

    for asked in (animate, region):
        response = api.post(
            URL,
            {**asked, "resolution": "480p", "source_generation": others.pk},
            format="multipart",
        )
        assert field_errors(response) == {
            "source_generation": ["No finished video of yours has this id."]
        }
    assert balance_of(user) == before
    assert not Generation.objects.exclude(parent=None).exists()
