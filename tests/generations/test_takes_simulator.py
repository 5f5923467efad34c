"""The simulator's editing models over HTTP: exactly their EDITING-MODELS.md schemas, and outputs
made from the inputs, so the takes' tests can check what was done."""

from __future__ import annotations

import base64
import io
from typing import Any

import av
import httpx
import pytest
from PIL import Image, ImageStat

from generations.simulator import ReplicateSimulator
from generations.simulator.video import encode_pictures
from tests.factories import audio_bytes, clip_bytes, png_bytes

HEADERS = {"Authorization": "Bearer r8_test"}
PROMPT = "Turn the sky purple"


def data_url(data: bytes, kind: str) -> str:
    return f"data:{kind};base64,{base64.b64encode(data).decode()}"


def mp4(data: bytes) -> str:
    return data_url(data, "video/mp4")


def png(colour: tuple[int, int, int], size: tuple[int, int] = (320, 240)) -> str:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, "PNG")
    return data_url(buffer.getvalue(), "image/png")


def run(simulator: ReplicateSimulator, model: str, model_input: dict[str, Any]) -> bytes:
    """The output video of a prediction, once it succeeded."""
    created = httpx.post(
        f"{simulator.base_url}/v1/models/{model}/predictions",
        json={"input": model_input},
        headers=HEADERS,
    )
    assert created.status_code == 201, created.text
    ended = simulator.wait_for(created.json()["id"], timeout=20)
    assert ended["status"] == "succeeded", ended["error"]
    return httpx.get(ended["output"]).content


def frames_of(video: bytes) -> tuple[list[Image.Image], float, bool]:
    """Every frame, the length in seconds and whether there is sound."""
    with av.open(io.BytesIO(video), mode="r") as container:
        stream = container.streams.video[0]
        rate = float(stream.average_rate or 16)
        pictures = [frame.to_image() for frame in container.decode(stream)]
        return pictures, len(pictures) / rate, bool(container.streams.audio)


def mean(picture: Image.Image, box: tuple[int, int, int, int] | None = None) -> list[float]:
    return ImageStat.Stat(picture.crop(box) if box else picture).mean


def distance(first: list[float], second: list[float]) -> float:
    return max(abs(a - b) for a, b in zip(first, second, strict=True))


@pytest.mark.parametrize(
    ("model", "model_input", "field"),
    [
        ("wan-video/wan-2.7-videoedit", {"prompt": PROMPT}, "input.video"),
        (
            "wan-video/wan-2.7-videoedit",
            {"prompt": PROMPT, "video": "https://example.com/a.mp4", "negative_prompt": "x"},
            "input.negative_prompt",
        ),
        (
            "wan-video/wan-2.7-videoedit",
            {"prompt": PROMPT, "video": "https://example.com/a.mp4", "audio_setting": "keep"},
            "input.audio_setting",
        ),
        ("wan-video/wan-2.7-i2v", {"prompt": PROMPT}, "input.first_frame"),
        (
            "wan-video/wan-2.2-animate-animation",
            {"video": "https://example.com/a.mp4", "character_image": "x", "resolution": "720p"},
            "input.resolution",
        ),
        ("wan-video/wan-2.2-animate-replace", {"video": "ftp://a/b.mp4"}, "input.character_image"),
        (
            "wan-video/wan-2.2-s2v",
            {"prompt": PROMPT, "image": "https://e.com/a.png"},
            "input.audio",
        ),
        ("prunaai/vace-14b", {"prompt": PROMPT, "src_ref_images": "x"}, "input.src_ref_images"),
        ("prunaai/vace-14b", {"prompt": PROMPT, "speed_mode": "Juiced"}, "input.speed_mode"),
    ],
)
def test_an_input_outside_an_editing_models_schema_is_refused_naming_the_field(
    simulator, model, model_input, field
):
    response = httpx.post(
        f"{simulator.base_url}/v1/models/{model}/predictions",
        json={"input": model_input},
        headers=HEADERS,
    )

    assert response.status_code == 422
    assert field in {problem["field"] for problem in response.json()["invalid_fields"]}


def test_an_edit_tints_the_sources_frames_and_keeps_its_sound_only_when_asked(simulator):
    source = clip_bytes(4.0, sound=True)
    source_frames, seconds, _ = frames_of(source)
    common = {"prompt": PROMPT, "video": mp4(source)}

    kept = frames_of(
        run(simulator, "wan-video/wan-2.7-videoedit", {**common, "audio_setting": "origin"})
    )
    redone = frames_of(run(simulator, "wan-video/wan-2.7-videoedit", common))
    cut = frames_of(run(simulator, "wan-video/wan-2.7-videoedit", {**common, "duration": 2}))

    assert (len(kept[0]), kept[2], redone[2]) == (len(source_frames), True, False)
    assert distance(mean(kept[0][0]), mean(source_frames[0])) > 20
    assert kept[0][0].size == source_frames[0].size
    assert cut[1] == pytest.approx(seconds / 2, abs=0.2)


def test_a_masked_vace_edit_changes_only_the_white_region(simulator):
    source = clip_bytes(1.0, (320, 240), fps=8)
    half_white = Image.new("RGB", (320, 240), "black")
    half_white.paste((255, 255, 255), (0, 0, 160, 240))
    mask = encode_pictures([half_white] * 8, fps=8)

    output, _, _ = frames_of(
        run(
            simulator,
            "prunaai/vace-14b",
            {"prompt": PROMPT, "src_video": mp4(source), "src_mask": mp4(mask)},
        )
    )
    original, _, _ = frames_of(source)

    left, right = (8, 8, 150, 232), (170, 8, 312, 232)
    assert distance(mean(output[0], left), mean(original[0], left)) > 20
    assert distance(mean(output[0], right), mean(original[0], right)) < 4


def test_speech_to_video_lasts_as_long_as_its_track_and_carries_it(simulator):
    voice = data_url(audio_bytes(4.0), "audio/wav")

    _, seconds, sound = frames_of(
        run(
            simulator,
            "wan-video/wan-2.2-s2v",
            {"prompt": PROMPT, "image": png((200, 40, 40)), "audio": voice},
        )
    )

    assert seconds == pytest.approx(4.0, abs=0.1)
    assert sound is True


def test_first_and_last_frame_start_on_the_first_image_and_end_on_the_last(simulator):
    red, blue = (220, 20, 20), (20, 20, 220)

    for model, first, last in (
        ("wan-video/wan-2.7-i2v", "first_frame", "last_frame"),
        ("wan-video/wan-2.2-i2v-fast", "image", "last_image"),
    ):
        output, _, _ = frames_of(
            run(simulator, model, {"prompt": PROMPT, first: png(red), last: png(blue)})
        )
        assert distance(mean(output[0]), list(red)) < 25, model
        assert distance(mean(output[-1]), list(blue)) < 25, model


def test_a_continued_clip_starts_from_the_clips_last_frame(simulator):
    clip = clip_bytes(2.0, fmt="mp4")
    last = frames_of(clip)[0][-1]

    output, _, _ = frames_of(
        run(simulator, "wan-video/wan-2.7-i2v", {"prompt": PROMPT, "first_clip": mp4(clip)})
    )

    assert distance(mean(output[0]), mean(last)) < 25


def test_animate_and_replace_follow_the_driving_video_and_merge_its_sound_when_asked(simulator):
    driving = clip_bytes(2.0, sound=True)
    _, seconds, _ = frames_of(driving)
    character = data_url(png_bytes((160, 160)), "image/png")
    common = {"video": mp4(driving), "character_image": character, "resolution": "480"}

    for model in ("wan-video/wan-2.2-animate-animation", "wan-video/wan-2.2-animate-replace"):
        merged = frames_of(run(simulator, model, {**common, "merge_audio": True}))
        silent = frames_of(run(simulator, model, common))
        assert (merged[1], merged[2], silent[2]) == (pytest.approx(seconds, abs=0.1), True, False)
