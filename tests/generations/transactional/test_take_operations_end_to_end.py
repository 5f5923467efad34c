"""Animate, replace, talking portrait and change a region from end to end: the API over HTTP, the
submission to the simulator over HTTP with the exact input each model takes, the webhook, the
copy, and the take played back and compared with its source frame by frame."""

from __future__ import annotations

import base64
import io
from typing import Any

import av
import httpx
import pytest
from PIL import Image, ImageChops, ImageStat

from credits.models import CreditTransaction, TransactionType
from credits.selectors import balance_of
from generations.models import Generation, Status
from generations.simulator import ReplicateSimulator
from tests.factories import audio_bytes, clip_bytes, make_generation, png_bytes
from tests.generations.takes_helpers import run_until_ended

SIZE = (416, 240)
# x 104..312, y 120..180 on the 416x240 source (even pixels).
BOX = {"x": 0.25, "y": 0.5, "width": 0.5, "height": 0.25}
INSIDE = (104, 120, 312, 180)
# Pixels this close to the box's edge may blur into it when the output is encoded.
EDGE = 6


def pictures_of(video: bytes) -> tuple[list[Image.Image], float, bool]:
    """Every frame, the frame rate and whether the video has sound."""
    with av.open(io.BytesIO(video), mode="r") as container:
        stream = container.streams.video[0]
        rate = float(stream.average_rate or 0)
        pictures = [frame.to_image().convert("RGB") for frame in container.decode(stream)]
        return pictures, rate, bool(container.streams.audio)


def difference(first: Image.Image, second: Image.Image, area: tuple[int, int, int, int]) -> float:
    """The mean difference of two pictures' channels over `area`."""
    changed = ImageChops.difference(first.crop(area), second.crop(area))
    return max(ImageStat.Stat(changed).mean)


def ended_take(api: httpx.Client, response: httpx.Response, user: Any) -> tuple[Generation, int]:
    """The take once it has ended, after checking the cost shown is the cost charged."""
    assert response.status_code == 201, response.text
    shown = response.json()
    take = run_until_ended(shown["id"])
    assert take.status == Status.SUCCEEDED, take.error_message
    charge = CreditTransaction.objects.get(generation=take, type=TransactionType.DEDUCTION)
    assert shown["cost"] == -charge.amount
    assert api.get(f"/generations/{take.pk}/").json()["status"] == "succeeded"
    return take, shown["cost"]


def sent_to(simulator: ReplicateSimulator, take: Generation) -> dict[str, Any]:
    return simulator.prediction(str(take.prediction_id))["input"]


def inline(url: str) -> bytes:
    header, _, data = url.partition(",")
    assert header.startswith("data:") and header.endswith(";base64"), header
    return base64.b64decode(data)


def played(api: httpx.Client, take: Generation) -> bytes:
    response = api.get(f"/generations/{take.pk}/video/")
    assert response.status_code == 200, response.text
    return response.content


@pytest.mark.django_db(transaction=True)
def test_a_box_drawn_on_the_source_changes_only_the_pixels_inside_it(service, user):
    simulator, api = service
    source_video = clip_bytes(2.0, size=SIZE, fps=8)
    source = make_generation(user, video=source_video)
    before = balance_of(user)
    prompt = "A red balloon floats in the sky"

    response = api.post(
        "/generations/",
        json={
            "model_key": "vace-14B",
            "resolution": "480p",
            "operation": "region",
            "source_generation": source.pk,
            "prompt": prompt,
            "mask_box": BOX,
        },
    )

    take, cost = ended_take(api, response, user)
    assert cost == 40 == before - balance_of(user)
    sent = sent_to(simulator, take)
    assert sorted(sent) == ["prompt", "size", "src_mask", "src_video"]
    assert (sent["prompt"], sent["size"]) == (prompt, "832*480")
    assert inline(sent["src_video"]) == take.input_video.open("rb").read()
    assert inline(sent["src_mask"]) == take.input_mask.open("rb").read()
    originals, _, _ = pictures_of(source_video)
    edited, rate, _ = pictures_of(played(api, take))
    assert (len(edited), rate, edited[0].size) == (len(originals), 8.0, SIZE)
    left, top, right, bottom = INSIDE
    inner = (left + EDGE, top + EDGE, right - EDGE, bottom - EDGE)
    outside = [(0, 0, SIZE[0], top - EDGE), (0, bottom + EDGE, SIZE[0], SIZE[1])]
    outside += [(0, top, left - EDGE, bottom), (right + EDGE, top, SIZE[0], bottom)]
    for original, changed in zip(originals, edited, strict=True):
        assert difference(original, changed, inner) > 25
        assert max(difference(original, changed, area) for area in outside) < 6


@pytest.mark.django_db(transaction=True)
def test_a_talking_portrait_lasts_as_long_as_its_track_and_carries_it(service, user):
    simulator, api = service
    prompt = "A woman sings a slow song"
    track = audio_bytes(7.5)

    response = api.post(
        "/generations/",
        data={
            "model_key": "s2v-2.2",
            "resolution": "480p",
            "operation": "speak",
            "prompt": prompt,
        },
        files={
            "image": ("face.png", png_bytes((320, 320)), "image/png"),
            "audio": ("voice.wav", track, "audio/wav"),
        },
    )

    take, cost = ended_take(api, response, user)
    assert cost == 6  # $0.02 a second of 7.5 s
    sent = sent_to(simulator, take)
    assert sorted(sent) == ["audio", "image", "prompt"]
    assert sent["prompt"] == prompt
    assert inline(sent["audio"]) == take.input_audio.open("rb").read() == track
    pictures, rate, sound = pictures_of(played(api, take))
    assert sound
    assert len(pictures) / rate == pytest.approx(7.5, abs=0.1)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("operation", ["replace", "animate"])
def test_animate_and_replace_follow_the_driving_video_with_the_character(service, user, operation):
    simulator, api = service
    source_video = clip_bytes(2.0, size=SIZE, fps=8, sound=True)
    source = make_generation(user, video=source_video)
    character = png_bytes((200, 300))
    asked = {"merge_audio": "true"} if operation == "replace" else {}

    response = api.post(
        "/generations/",
        data={
            "model_key": f"{operation}-2.2",
            "resolution": "720p",
            "operation": operation,
            "source_generation": str(source.pk),
            **asked,
        },
        files={"image": ("character.png", character, "image/png")},
    )

    take, cost = ended_take(api, response, user)
    sent = sent_to(simulator, take)
    expected = ["character_image", "resolution", "video"]
    assert sorted(sent) == sorted(expected + list(asked))
    assert sent["resolution"] == "720"
    assert inline(sent["video"]) == take.input_video.open("rb").read()
    assert inline(sent["character_image"]) == take.input_image.open("rb").read()
    originals, _, _ = pictures_of(source_video)
    made, rate, sound = pictures_of(played(api, take))
    # The driving video's frames, one for one, at its size and rate.
    assert (len(made), rate, made[0].size) == (len(originals), 8.0, SIZE)
    whole = (0, 0, *SIZE)
    assert min(difference(a, b, whole) for a, b in zip(originals, made, strict=True)) > 10
    if operation == "replace":
        # $0.05 a second of the source's 2 s at 720p, and its sound merged back as asked.
        assert (cost, sound) == (4, True)
    else:
        assert (cost, sound) == (72, False)  # billed by run time: its deadline's price
