"""Two instances of the app that share PostgreSQL, Redis and the bucket but not a disk: "machine
A" serves the web, "machine B" runs the worker, each with a media folder of its own. A video
submitted on A is finished on B and plays on A, to its owner and through a share link; deleting
it on A removes its objects. `pytest -s` prints the timings."""

from __future__ import annotations

import io
import re
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import av
import httpx
import pytest
from django.conf import global_settings

from generations.models import Generation, Status
from generations.simulator import ReplicateSimulator
from tests.factories import PASSWORD, png_bytes
from tests.fixtures.object_storage import Bucket
from tests.generations.background_stack import Stack, free_port
from tests.waiting import wait_until

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

REDIS = shutil.which("redis-server")
PROMPT = "A paper boat drifting down a rainy street, seen from above"


@pytest.fixture
def redis_url() -> Iterator[str]:
    """A throw-away Redis on 127.0.0.1 that both machines use as their cache."""
    if REDIS is None:
        pytest.skip("redis-server is not installed")
    port = free_port()
    server = subprocess.Popen(  # noqa: S603
        [REDIS, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    wait_until(lambda: _answers(port), timeout=5, what="Redis")
    yield f"redis://127.0.0.1:{port}/0"
    server.terminate()
    server.wait(timeout=5)


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


@pytest.fixture
def machines(
    tmp_path: Path, bucket: Bucket, redis_url: str
) -> Iterator[tuple[Stack, Stack, ReplicateSimulator]]:
    """Machine A (web) and machine B (worker), and Replicate's simulator sending its webhooks to
    A. Both machines are configured only through the environment, as in production."""
    with ReplicateSimulator(duration=0.3, frames=4) as simulator:
        shared = {
            **bucket.environment(),
            "REDIS_URL": redis_url,
            "REPLICATE_BASE_URL": simulator.base_url,
            "REPLICATE_API_TOKEN": "test",
            "REPLICATE_WEBHOOK_SECRET": simulator.webhook_secret,
        }
        a = Stack(tmp_path / "a", MEDIA_ROOT=str(tmp_path / "a-media"), **shared)
        b = Stack(
            tmp_path / "b",
            MEDIA_ROOT=str(tmp_path / "b-media"),
            SITE_URL=a.env["SITE_URL"],
            **shared,
        )
        try:
            a.start_web()
            b.start_worker("b")
            yield a, b, simulator
        finally:
            a.stop_all()
            b.stop_all()


def _csrf(page: httpx.Response) -> str:
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    assert match, "no CSRF token on the page"
    return match.group(1)


def _sources(page: httpx.Response, pattern: str) -> list[str]:
    return re.findall(rf'(?:src|poster)="({pattern})"', page.text)


def _play(client: httpx.Client, path: str) -> bytes:
    """What a browser's `<video>` gets from `path`: a redirect to a presigned URL, and bytes
    from the bucket, in ranges too."""
    redirect = client.get(path)
    assert redirect.status_code == 302, (path, redirect.status_code)
    location = redirect.headers["Location"]
    assert not location.startswith(str(client.base_url))  # the bucket sends the bytes
    first = httpx.get(location, headers={"Range": "bytes=0-1023"})
    assert (first.status_code, len(first.content)) == (206, 1024)
    whole = httpx.get(location)
    assert whole.status_code == 200 and whole.content.startswith(first.content)
    return whole.content


def _frames(video: bytes) -> int:
    with av.open(io.BytesIO(video), "r") as container:
        return sum(1 for _ in container.decode(video=0))


def test_a_video_submitted_on_a_and_finished_on_b_plays_on_a_and_is_deleted_there(
    machines, bucket: Bucket, make_user, tmp_path: Path, settings
):
    a, _, _ = machines
    settings.PASSWORD_HASHERS = global_settings.PASSWORD_HASHERS  # the hasher A checks with
    user = make_user()
    started = time.monotonic()
    with httpx.Client(base_url=a.env["SITE_URL"], timeout=10) as owner:
        login = owner.get("/accounts/login/")
        owner.post(
            "/accounts/login/",
            data={
                "login": user.username,
                "password": PASSWORD,
                "csrfmiddlewaretoken": _csrf(login),
            },
        )
        form = owner.get("/create/")
        submitted = owner.post(
            "/create/",
            data={
                "csrfmiddlewaretoken": _csrf(form),
                "kind": "i2v",
                "model_key": "i2v-14B",
                "resolution": "480p",
                "aspect_ratio": "16:9",
                "prompt": PROMPT,
            },
            files={"image": ("boat.png", png_bytes(), "image/png")},
        )
        assert submitted.status_code == 302, submitted.text[:500]
        generation = Generation.objects.get(user=user)
        assert bucket.keys() == {generation.input_image.name}  # uploaded on A, read on B

        finished_in = wait_until(
            lambda: Generation.objects.get(pk=generation.pk).is_terminal,
            timeout=30,
            what="machine B to finish the video",
        )
        generation.refresh_from_db()
        assert generation.status == Status.SUCCEEDED, generation.error_message
        objects = {generation.input_image.name, generation.video.name, generation.poster.name}
        assert bucket.keys() == objects

        detail = owner.get(f"/generations/{generation.pk}/")
        assert detail.status_code == 200
        video_path = f"/generations/{generation.pk}/files/video"
        assert video_path in _sources(detail, '[^"]+')
        video = _play(owner, video_path)
        assert video == bucket.read(generation.video.name) and _frames(video) == 4

        owner.post(
            f"/generations/{generation.pk}/share/", data={"csrfmiddlewaretoken": _csrf(detail)}
        )
        token = Generation.objects.get(pk=generation.pk).share_token
        assert token
        with httpx.Client(base_url=a.env["SITE_URL"], timeout=10) as visitor:
            shared = visitor.get(f"/s/{token}/")
            assert f"/s/{token}/video" in _sources(shared, '[^"]+')
            assert _play(visitor, f"/s/{token}/video") == video

        deleted = owner.post(
            f"/generations/{generation.pk}/delete/", data={"csrfmiddlewaretoken": _csrf(detail)}
        )
        assert deleted.status_code == 302
        assert bucket.keys() == set()
    total = time.monotonic() - started

    # Neither machine kept a file on its own disk.
    assert [p for p in tmp_path.glob("[ab]-media/**/*") if p.is_file()] == []
    print(
        f"\ntwo machines: finished on B {finished_in:.1f} s after submission, {total:.1f} s in all"
    )
