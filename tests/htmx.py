"""Building generations in any state for the page tests, with real files and ledger rows."""

from __future__ import annotations

import functools
import io
import secrets
import tempfile

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone
from PIL import Image

from credits.actions import charge_generation, refund_generation_charge
from generations.models import Generation, Status
from generations.replicate.output import poster_frame
from generations.simulator import render_video

PROMPT = "A red fox running through fresh snow at dawn"
VIDEO_BYTES = b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 40  # served as-is, never decoded
HX = {"HTTP_HX_REQUEST": "true"}  # what htmx sends with its requests


def png_bytes(size: tuple[int, int] = (96, 64), fmt: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 60, 40)).save(buffer, fmt)
    return buffer.getvalue()


@pytest.fixture(autouse=True)
def fast_password_hashing(settings) -> None:
    """Users are made and logged in by almost every page test; MD5 keeps that instant."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@functools.cache
def playable_video() -> tuple[bytes, bytes]:
    """A real H.264 MP4 and its first frame as poster, for pages a browser plays (made once)."""
    video = render_video("A red fox running through fresh snow", 320, 180, frames=32)
    with tempfile.NamedTemporaryFile(suffix=".mp4") as file:
        file.write(video)
        file.flush()
        return video, poster_frame(file.name)


def make_generation(
    user,
    *,
    status: str = Status.SUCCEEDED,
    kind: str = "t2v",
    prompt: str = PROMPT,
    charged: bool = True,
    playable: bool = False,
    **fields,
) -> Generation:
    """A generation as the lifecycle would leave it in `status`: charged, refunded when it
    failed or was canceled, with its video and poster when it succeeded (`playable`: a real
    MP4 instead of a few bytes)."""
    now = timezone.now()
    generation = Generation(
        user=user,
        kind=kind,
        model_key="i2v-14B" if kind == "i2v" else "t2v-14B",
        resolution="480p",
        aspect_ratio="16:9",
        prompt=prompt,
        cost=10,
        status=status,
        **fields,
    )
    if status != Status.QUEUED:
        generation.prediction_id = secrets.token_hex(12)
        generation.started_at = now
    if status in (Status.PROCESSING, Status.STARTING):
        generation.progress = fields.get("progress", 40)
    if status in (Status.SUCCEEDED, Status.FAILED, Status.CANCELED):
        generation.completed_at = now
    if status == Status.FAILED:
        generation.error_message = fields.get("error_message", "The model ran out of memory.")
    if kind == "i2v":
        generation.input_image.save("input.png", ContentFile(png_bytes()), save=False)
    if status == Status.SUCCEEDED:
        video, poster = playable_video() if playable else (VIDEO_BYTES, png_bytes(fmt="JPEG"))
        generation.video.save("video.mp4", ContentFile(video), save=False)
        generation.poster.save("poster.jpg", ContentFile(poster), save=False)
    generation.save()
    if charged:
        charge_generation(generation)
        if status in (Status.FAILED, Status.CANCELED):
            refund_generation_charge(generation, reason=generation.error_message)
    return generation
