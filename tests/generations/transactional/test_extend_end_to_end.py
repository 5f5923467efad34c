"""Extend from end to end: the API over HTTP, the source's last frame sent to an image-to-video
model on the simulator over HTTP, the new clip copied and joined after the source, and the joined
video played back: the source's frames then the new ones, its sound, its index first."""

from __future__ import annotations

import base64
import io
import tempfile
from collections.abc import Callable
from typing import Any

import av
import pytest
from PIL import Image, ImageChops, ImageStat

from credits.models import CreditTransaction, TransactionType
from credits.selectors import balance_of
from generations import media
from generations.failures import FailureReason
from generations.models import Generation, Status
from generations.simulator import ReplicateSimulator, render_video
from tests.factories import audio_bytes, clip_bytes, make_generation
from tests.generations.takes_helpers import run_until_ended

PROMPT = "The camera keeps moving along the shore"
EXTEND = {"model_key": "i2v-2.2-fast", "resolution": "480p", "operation": "extend"}
NEW_FRAMES = 16  # the simulator's clip: one second at 16 fps, 832x480 at 480p


@pytest.fixture
def simulator_factory(
    simulator_factory: Callable[..., ReplicateSimulator],
) -> Callable[..., ReplicateSimulator]:
    """The simulators of these tests make clips of NEW_FRAMES frames."""

    def start(**options: Any) -> ReplicateSimulator:
        return simulator_factory(**{"frames": NEW_FRAMES, **options})

    return start


def frames_of(video: bytes) -> list[Image.Image]:
    with av.open(io.BytesIO(video), "r") as container:
        return [frame.to_image() for frame in container.decode(video=0)]


def differs(one: Image.Image, other: Image.Image) -> float:
    """The mean difference of two pictures' pixels (0 to 255)."""
    return max(ImageStat.Stat(ImageChops.difference(one, other)).mean)


def _seconds(stream: av.stream.Stream) -> float:
    assert stream.duration is not None and stream.time_base is not None
    return float(stream.duration * stream.time_base)


def described(video: bytes) -> tuple[tuple[int, int], float, float, float | None]:
    """Size, frame rate, video length and sound length of an MP4, in seconds."""
    with av.open(io.BytesIO(video), "r") as container:
        stream = container.streams.video[0]
        seconds = _seconds(stream)
        sound = container.streams.audio[:1]
        heard = _seconds(sound[0]) if sound else None
        size = (stream.codec_context.width, stream.codec_context.height)
        return size, float(stream.average_rate or 0), seconds, heard


def video_packets(video: bytes) -> list[bytes]:
    with av.open(io.BytesIO(video), "r") as container:
        stream = container.streams.video[0]
        return [bytes(packet) for packet in container.demux(stream) if packet.size]


def index_first(video: bytes) -> bool:
    with tempfile.NamedTemporaryFile(suffix=".mp4") as file:
        file.write(video)
        file.flush()
        return media.index_first(file.name)


@pytest.mark.django_db(transaction=True)
def test_an_extension_plays_its_source_then_the_new_clip_from_its_last_frame(service, user):
    simulator, api = service
    # The size, rate and encoder of the model's clips: the join copies the packets.
    source_video = render_video("A walk on the shore", 832, 480, frames=24, audio=audio_bytes(2))
    source = make_generation(user, video=source_video)
    before = balance_of(user)

    response = api.post(
        "/generations/", json={**EXTEND, "source_generation": source.pk, "prompt": PROMPT}
    )

    assert response.status_code == 201, response.text
    shown = response.json()
    assert (shown["operation"], shown["parent"]) == ("extend", source.pk)
    take = run_until_ended(shown["id"])
    assert take.status == Status.SUCCEEDED, take.error_message
    # The cost shown is the cost charged: the model's price for the new part (5 credits).
    charge = CreditTransaction.objects.get(generation=take, type=TransactionType.DEDUCTION)
    assert shown["cost"] == -charge.amount == before - balance_of(user) == 5
    # Exactly what the model takes: the source's last frame as its image, no video.
    sent = simulator.prediction(str(take.prediction_id))["input"]
    assert sorted(sent) == ["image", "num_frames", "prompt", "resolution"]
    header, _, data = sent["image"].partition(",")
    assert header == "data:image/png;base64"
    source_frames = frames_of(source_video)
    last_frame = Image.open(io.BytesIO(base64.b64decode(data))).convert("RGB")
    assert differs(last_frame, source_frames[-1]) < 1
    # The joined video: the source's frames (its very packets), then the new ones from its last.
    played = api.get(f"/generations/{take.pk}/video/")
    assert played.status_code == 200
    joined = played.content
    frames = frames_of(joined)
    assert len(frames) == len(source_frames) + NEW_FRAMES
    assert all(differs(a, b) < 1 for a, b in zip(frames, source_frames, strict=False))
    assert differs(frames[len(source_frames)], source_frames[-1]) < 8
    assert video_packets(joined)[:24] == video_packets(source_video)
    size, rate, seconds, heard = described(joined)
    assert (size, rate) == ((832, 480), 16)
    assert seconds == pytest.approx(1.5 + 1.0, abs=0.07)
    assert heard == pytest.approx(1.5, abs=0.05)  # the source's sound, cut at its last frame
    assert index_first(joined)
    assert take.poster


@pytest.mark.django_db(transaction=True)
def test_an_uploaded_clip_of_another_size_and_rate_is_extended_at_its_own(service, user):
    _, api = service
    clip = clip_bytes(2.0, (416, 240), fps=8, sound=True)

    response = api.post(
        "/generations/",
        data={**EXTEND, "prompt": PROMPT},
        files={"video": ("clip.mp4", clip, "video/mp4")},
    )

    assert response.status_code == 201, response.text
    take = run_until_ended(response.json()["id"])
    assert take.status == Status.SUCCEEDED, take.error_message
    joined = api.get(f"/generations/{take.pk}/video/").content
    size, rate, seconds, heard = described(joined)
    # Re-encoded to the source's 416x240 at 8 fps: one second of new frames is eight of them.
    assert (size, rate) == ((416, 240), 8)
    assert len(frames_of(joined)) == 16 + 8
    assert seconds == pytest.approx(3.0, abs=0.13)
    assert heard == pytest.approx(2.0, abs=0.05)
    assert index_first(joined)
    source_frames = frames_of(clip)
    frames = frames_of(joined)
    assert all(differs(a, b) < 4 for a, b in zip(frames, source_frames, strict=False))
    assert differs(frames[16], source_frames[-1].convert("RGB")) < 12


@pytest.mark.django_db(transaction=True)
def test_an_extension_whose_join_fails_fails_with_its_reason_and_is_refunded(service, user):
    _, api = service
    source = make_generation(user, video=clip_bytes(2.0))
    before = balance_of(user)
    body = api.post(
        "/generations/", json={**EXTEND, "source_generation": source.pk, "prompt": PROMPT}
    ).json()
    take = Generation.objects.get(pk=body["id"])
    # The take's copy of its source is damaged while the model runs.
    with take.input_video.open("wb") as stored:
        stored.write(b"\x00\x00\x00\x18ftypmp42 not a video any more")

    take = run_until_ended(take.pk)

    assert take.status == Status.FAILED
    assert take.failure_reason == FailureReason.OUTPUT_NOT_SAVED
    assert "could not be joined" in take.failure_detail
    assert balance_of(user) == before
    assert CreditTransaction.objects.filter(generation=take, type=TransactionType.REFUND).exists()
    assert not take.video
