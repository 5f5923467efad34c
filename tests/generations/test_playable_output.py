"""Videos that play everywhere: an output with its index (`moov`) last is remuxed with the index
first, without re-encoding, and one in another pixel format than yuv420p is re-encoded to it,
before it is stored."""

from __future__ import annotations

import io
from pathlib import Path

import av
import httpx
import pytest
import replicate
import respx

from generations.lifecycle.transitions import apply_prediction_update
from generations.media import index_first, pixel_format, playable_copy
from generations.models import Generation, Status
from generations.simulator import render_video
from tests.factories import audio_bytes
from tests.fixtures.fake_replicate import ReplicateAPI
from tests.generations.lifecycle_helpers import run_tasks, submit, update
from wan_pwa.accounts.models import User

VIDEO_URL = "https://replicate.delivery/abc/output.mp4"


def packets(path: str) -> list[bytes]:
    with av.open(path) as container:
        return [bytes(p) for p in container.demux(video=0) if p.size]


def written(tmp_path: Path, content: bytes, name: str = "in.mp4") -> str:
    path = tmp_path / name
    path.write_bytes(content)
    return str(path)


def test_the_index_is_found_first_or_last(tmp_path):
    assert index_first(written(tmp_path, render_video("A fox", 64, 48, frames=3), "a.mp4"))
    late = render_video("A fox", 64, 48, frames=3, faststart=False)
    assert not index_first(written(tmp_path, late, "b.mp4"))
    assert not index_first(written(tmp_path, b"", "empty.mp4"))


def test_an_index_last_video_is_remuxed_with_the_same_packets(tmp_path):
    source = written(tmp_path, render_video("A fox", 64, 48, frames=6, faststart=False))
    scratch = tmp_path / "scratch"
    scratch.mkdir()

    copy = playable_copy(source, str(scratch), generation_id=1)

    assert copy != source and index_first(copy)
    assert packets(copy) == packets(source)  # copied, not re-encoded
    assert pixel_format(copy) == "yuv420p"


def frames_of(path: str) -> list[av.VideoFrame]:
    with av.open(path) as container:
        return list(container.decode(video=0))


def test_a_yuv444p_video_is_re_encoded_to_yuv420p_with_its_index_first(tmp_path):
    source = written(
        tmp_path, render_video("A fox", 66, 48, frames=6, faststart=False, pixel_format="yuv444p")
    )
    assert pixel_format(source) == "yuv444p"

    copy = playable_copy(source, str(tmp_path), generation_id=1)

    assert copy != source and index_first(copy)
    assert pixel_format(copy) == "yuv420p"
    frames = frames_of(copy)
    assert len(frames) == 6 and (frames[0].width, frames[0].height) == (66, 48)
    # The picture survives: the middle pixel's colour is close to the original's.
    before, after = frames_of(source)[3].to_image(), frames[3].to_image()
    centre = (33, 24)
    pairs = zip(before.getpixel(centre), after.getpixel(centre), strict=True)
    assert all(abs(a - b) < 24 for a, b in pairs)


def with_sound(tmp_path: Path, video: bytes) -> str:
    """The video with a second of AAC sound muxed in, as Wan 2.5's outputs have."""
    path = str(tmp_path / "with-sound.mp4")
    sound = written(tmp_path, audio_bytes(1, "mp4"), "a.mp4")
    with (
        av.open(written(tmp_path, video, "v.mp4")) as pictures,
        av.open(sound) as sounds,
        av.open(path, "w", format="mp4") as out,
    ):
        # Every stream is added before the first packet is written.
        pairs = [
            (container, out.add_stream_from_template(container.streams[0]))
            for container in (pictures, sounds)
        ]
        for container, target in pairs:
            for packet in container.demux(container.streams[0]):
                if packet.dts is not None:
                    packet.stream = target
                    out.mux(packet)
    return path


def audio_packets(path: str) -> list[bytes]:
    with av.open(path) as container:
        return [bytes(p) for p in container.demux(audio=0) if p.size]


def test_re_encoding_keeps_the_sound_as_it_was(tmp_path):
    source = with_sound(tmp_path, render_video("A fox", 64, 48, frames=6, pixel_format="yuv444p"))
    assert audio_packets(source)

    copy = playable_copy(source, str(tmp_path), generation_id=1)

    assert pixel_format(copy) == "yuv420p"
    assert audio_packets(copy) == audio_packets(source)


def test_a_video_with_its_index_first_is_kept_as_it_is(tmp_path):
    source = written(tmp_path, render_video("A fox", 64, 48, frames=3))

    assert playable_copy(source, str(tmp_path), generation_id=1) == source


def simulated_output(simulator_factory, marker: str) -> bytes:
    """The video the simulator makes for a prompt with the marker, fetched over HTTP."""
    simulator = simulator_factory(frames=3, duration=0.1)
    client = replicate.Client(api_token="r8_test", base_url=simulator.base_url)
    prediction = client.models.predictions.create(
        model="wan-video/wan-2.1-1.3b", input={"prompt": f"A heron in the reeds {marker}"}
    )
    prediction.wait()
    assert prediction.status == "succeeded"
    assert isinstance(prediction.output, str)
    return httpx.get(prediction.output).content


def test_the_simulator_writes_the_index_last_when_asked(simulator_factory, tmp_path):
    video = simulated_output(simulator_factory, "[moov-last]")

    assert not index_first(written(tmp_path, video))
    with av.open(io.BytesIO(video), "r") as container:  # it still decodes, once downloaded
        assert sum(1 for _ in container.decode(video=0)) == 3


def test_the_simulator_renders_yuv444p_when_asked(simulator_factory, tmp_path):
    video = simulated_output(simulator_factory, "[pix-444]")

    assert pixel_format(written(tmp_path, video)) == "yuv444p"


@pytest.mark.django_db
@pytest.mark.usefixtures("replicate_settings", "isolated_media")
def test_an_index_last_output_is_stored_with_its_index_first(
    user: User, replicate_api: ReplicateAPI
):
    late = render_video("A heron in the reeds", 64, 48, frames=5, faststart=False)
    delivery: respx.Route = replicate_api.download(VIDEO_URL)
    delivery.respond(200, content=late, headers={"Content-Type": "video/mp4"})
    generation = submit(user)
    apply_prediction_update(generation.pk, update("p-9", "processing"))
    apply_prediction_update(generation.pk, update("p-9", "succeeded", output=VIDEO_URL))

    run_tasks()

    generation = Generation.objects.get(pk=generation.pk)
    assert generation.status == Status.SUCCEEDED
    assert index_first(generation.video.path)
    with av.open(generation.video.path) as container:
        assert sum(1 for _ in container.decode(video=0)) == 5


@pytest.mark.django_db
@pytest.mark.usefixtures("replicate_settings", "isolated_media")
def test_a_yuv444p_output_is_stored_in_yuv420p(user: User, replicate_api: ReplicateAPI):
    video = render_video("A heron", 64, 48, frames=4, pixel_format="yuv444p")
    delivery: respx.Route = replicate_api.download(VIDEO_URL)
    delivery.respond(200, content=video, headers={"Content-Type": "video/mp4"})
    generation = submit(user)
    apply_prediction_update(generation.pk, update("p-8", "succeeded", output=VIDEO_URL))

    run_tasks()

    generation = Generation.objects.get(pk=generation.pk)
    assert generation.status == Status.SUCCEEDED
    assert pixel_format(generation.video.path) == "yuv420p"
    assert len(frames_of(generation.video.path)) == 4
