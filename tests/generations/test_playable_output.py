"""Videos that play everywhere: an output with its index (`moov`) last is remuxed with the index
first, without re-encoding, before it is stored."""

from __future__ import annotations

import io
from pathlib import Path

import av
import httpx
import pytest
import replicate
import respx

from generations.actions import apply_prediction_update
from generations.models import Generation, Status
from generations.replicate.faststart import index_first, pixel_format, playable_copy
from generations.simulator import render_video
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


def test_a_video_with_its_index_first_is_kept_as_it_is(tmp_path):
    source = written(tmp_path, render_video("A fox", 64, 48, frames=3))

    assert playable_copy(source, str(tmp_path), generation_id=1) == source


def test_the_simulator_writes_the_index_last_when_asked(simulator_factory, tmp_path):
    simulator = simulator_factory(frames=3, duration=0.1)
    client = replicate.Client(api_token="r8_test", base_url=simulator.base_url)

    prediction = client.models.predictions.create(
        model="wan-video/wan-2.1-1.3b", input={"prompt": "A heron in the reeds [moov-last]"}
    )
    prediction.wait()

    assert prediction.status == "succeeded"
    assert isinstance(prediction.output, str)
    video = httpx.get(prediction.output).content
    assert not index_first(written(tmp_path, video))
    with av.open(io.BytesIO(video), "r") as container:  # it still decodes, once downloaded
        assert sum(1 for _ in container.decode(video=0)) == 3


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
