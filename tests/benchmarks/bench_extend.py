"""End-to-end time of Extend and of first and last frame on the Replicate simulator, printed as
figures: from the submission (validation, the source decoded, its last frame taken, the charge)
through the simulator over HTTP and its signed webhooks to a live server, to the copy (and, for
Extend, the join) that makes the video playable. The worker's tasks run in this thread, polled
every 20 ms. Then the join alone, on a 5 s source and an 81-frame clip at 832x480, with the
packets copied and re-encoded.

The simulator runs each prediction for `--run` seconds (Replicate takes minutes; that part is
the model's, not ours). The script creates a throwaway test database (`test_<name>` of
DATABASE_URL) and drops it afterwards:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/wan_bench \\
        .venv/bin/python tests/benchmarks/bench_extend.py [--count 5] [--run 0.3]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from statistics import median
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wan_pwa.settings")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.staticfiles.handlers import StaticFilesHandler  # noqa: E402
from django.core.files.base import ContentFile  # noqa: E402
from django.test.testcases import LiveServerThread  # noqa: E402

from credits.actions import add_credits  # noqa: E402
from generations import media  # noqa: E402
from generations.actions.params import GenerationParams  # noqa: E402
from generations.lifecycle.submission import submit_generation  # noqa: E402
from generations.models import Generation, Status  # noqa: E402
from generations.simulator import ReplicateSimulator, render_video  # noqa: E402
from tests.benchmarks.in_process import throwaway_database  # noqa: E402
from tests.factories import audio_bytes, clip_bytes, make_generation, png_bytes  # noqa: E402
from tests.generations.lifecycle_helpers import run_tasks  # noqa: E402

PROMPT = "The camera keeps moving along the shore"
NEW_FRAMES = 81  # Wan's native clip: about five seconds at 16 fps


def ended(generation_id: int, timeout: float = 60) -> Generation:
    stop = time.monotonic() + timeout
    while time.monotonic() < stop:
        run_tasks()
        generation = Generation.objects.get(pk=generation_id)
        if generation.is_terminal:
            if generation.status != Status.SUCCEEDED:
                sys.exit(
                    f"generation {generation_id} {generation.status}: {generation.error_message}"
                )
            return generation
        time.sleep(0.02)
    sys.exit(f"generation {generation_id} did not end within {timeout:.0f} s")


def extension(**source: Any) -> GenerationParams:
    """Extend with Wan 2.2 fast at 480p, from `parent` or an uploaded `video`."""
    return GenerationParams(
        model_key="i2v-2.2-fast",
        resolution="480p",
        aspect_ratio="16:9",
        prompt=PROMPT,
        operation="extend",
        **source,
    )


def first_and_last(model_key: str, resolution: str, size: tuple[int, int]) -> GenerationParams:
    """Image-to-video from a first image to an end image, both of `size`."""
    return GenerationParams(
        model_key=model_key,
        resolution=resolution,
        aspect_ratio="16:9",
        prompt=PROMPT,
        image=ContentFile(png_bytes(size), name="first.png"),
        end_image=ContentFile(png_bytes(size), name="last.png"),
    )


def timed(count: int, params: Callable[[], GenerationParams], user) -> list[float]:
    seconds = []
    for _ in range(count):
        started = time.perf_counter()
        generation = submit_generation(user, params()).generation
        ended(generation.pk)
        seconds.append(time.perf_counter() - started)
    return seconds


def bench_operations(count: int, run: float) -> None:
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_user("bench", "bench@example.com", "bench-password-1")
    add_credits(user, 10_000, type="purchase", description="benchmark")
    simulator = ReplicateSimulator(duration=run, frames=NEW_FRAMES).start()
    server = LiveServerThread("localhost", StaticFilesHandler, port=0)
    server.daemon = True
    server.start()
    server.is_ready.wait()
    if server.error:
        raise server.error
    settings.REPLICATE_BASE_URL = simulator.base_url
    settings.REPLICATE_API_TOKEN = "bench"
    settings.REPLICATE_WEBHOOK_SECRET = simulator.webhook_secret
    settings.SITE_URL = f"http://localhost:{server.port}"
    settings.ALLOWED_HOSTS = ["testserver", "localhost"]
    settings.API_SUBMISSIONS_PER_MINUTE = 1000  # one user submits them all, back to back
    try:
        same = make_generation(
            user, video=render_video("A walk", 832, 480, frames=81, audio=audio_bytes(5.5))
        )
        other = clip_bytes(5.0, (640, 360), fps=24, sound=True)
        cases: list[tuple[str, Callable[[], GenerationParams]]] = [
            (
                "extend a 5 s video of one's own (832x480, 16 fps: packets copied)",
                lambda: extension(parent=same),
            ),
            (
                "extend a 5 s upload (640x360, 24 fps: re-encoded)",
                lambda: extension(video=ContentFile(other, name="clip.mp4")),
            ),
            (
                "first and last frame, Wan 2.2 fast 480p",
                lambda: first_and_last("i2v-2.2-fast", "480p", (832, 480)),
            ),
            (
                "first and last frame, Wan 2.7 720p",
                lambda: first_and_last("i2v-2.7", "720p", (1280, 720)),
            ),
        ]
        print(f"simulated run {run} s, new clips of {NEW_FRAMES} frames, {count} each")
        for name, params in cases:
            seconds = timed(count, params, user)
            print(
                f"  {name}: median {median(seconds):.2f} s, "
                f"min {min(seconds):.2f} s, max {max(seconds):.2f} s"
            )
    finally:
        simulator.stop()
        server.terminate()
        server.join()


def bench_joins(count: int) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-join-") as scratch:

        def written(name: str, data: bytes) -> str:
            path = os.path.join(scratch, name)
            Path(path).write_bytes(data)
            return path

        source = written("source.mp4", render_video("A walk", 832, 480, frames=81))
        same = written("same.mp4", render_video("On", 832, 480, frames=NEW_FRAMES))
        other = written("other.mp4", render_video("On", 1280, 720, frames=NEW_FRAMES))
        print("the join alone, a 5 s 832x480 source and an 81-frame clip:")
        for name, addition in (("same size and rate", same), ("a 1280x720 clip", other)):
            seconds = []
            for index in range(count):
                started = time.perf_counter()
                reencoded = media.join(source, addition, os.path.join(scratch, f"{index}.mp4"))
                seconds.append(time.perf_counter() - started)
            how = "re-encoded" if reencoded else "packets copied"
            print(f"  {name} ({how}): median {median(seconds) * 1000:.0f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=5)
    parser.add_argument("--run", type=float, default=0.3, help="simulated run, seconds")
    options = parser.parse_args()
    with throwaway_database():
        bench_operations(options.count, options.run)
    bench_joins(options.count)


if __name__ == "__main__":
    main()
