"""Running a take to its end on the live stack (tests/generations/transactional/conftest.py) and
reading the video it made."""

from __future__ import annotations

import io

import av
from PIL import ImageStat

from generations.models import Generation
from tests.generations.lifecycle_helpers import run_tasks
from tests.waiting import wait_until


def first_frame_and_size(video: bytes) -> tuple[tuple[float, ...], tuple[int, int], bool]:
    """The first frame's mean colour, the frame size and whether the video has sound."""
    with av.open(io.BytesIO(video), mode="r") as container:
        stream = container.streams.video[0]
        size = (stream.codec_context.width, stream.codec_context.height)
        frame = next(container.decode(stream)).to_image()
        return tuple(ImageStat.Stat(frame).mean), size, bool(container.streams.audio)


def run_until_ended(generation_id: int) -> Generation:
    def ended() -> bool:  # the worker's tasks here, the webhooks on the live server
        run_tasks()
        return Generation.objects.get(pk=generation_id).is_terminal

    wait_until(ended, timeout=20, what="the take to end")
    return Generation.objects.get(pk=generation_id)
