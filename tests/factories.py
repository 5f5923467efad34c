"""The objects tests build: users with credits, REST clients, and generations in any state.

Each is made the way the app makes it (real files, real ledger rows, the catalog's prices), so a
test starts from a state the product can be in. Call them from tests that have database access.
"""

from __future__ import annotations

import base64
import functools
import io
import itertools
import math
import secrets
import struct
import tempfile
from collections.abc import Iterator
from typing import Any

import av
from allauth.account.models import EmailAddress
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.core.files.base import ContentFile
from django.utils import timezone
from PIL import Image
from rest_framework.test import APIClient

from credits.actions import add_credits, charge_generation, refund_generation_charge
from credits.bonus import claim_signup_bonus
from credits.selectors import balance_of
from generations import catalog
from generations.failures import FailureReason
from generations.media import poster_frame
from generations.models import Generation, Status
from generations.simulator import render_video
from wan_pwa.accounts.models import User

PASSWORD = "a-strong-pass-123"
PROMPT = "A red fox running through fresh snow at dawn"
VIDEO_BYTES = b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 40  # served as-is, never decoded

_usernames = (f"user{number}" for number in itertools.count(1))


def make_user(
    username: str | None = None,
    password: str = PASSWORD,
    *,
    credits: int | None = None,
    **extra: Any,
) -> User:
    """A user signed up as the app signs them up, who verified their address and so got the
    sign-up bonus; with `credits`, their balance is then adjusted to exactly that."""
    name = username or next(_usernames)
    email = extra.pop("email", f"{name}@example.com")
    user = User.objects.create_user(username=name, email=email, password=password, **extra)
    if email:
        EmailAddress.objects.filter(user=user).update(verified=True)
        claim_signup_bonus(user, email)
    if credits is not None:
        set_credits(user, credits)
    return user


def make_staff(
    username: str = "root", *, superuser: bool = True, **extra: Any
) -> tuple[User, TOTP]:
    """A staff member (a superuser unless told otherwise) with an authenticator app, which the
    admin requires, and its TOTP."""
    staff = make_user(username, is_staff=True, is_superuser=superuser, **extra)
    return staff, TOTP.activate(staff, generate_totp_secret())


def set_credits(user: User, balance: int) -> None:
    """Brings the user's balance to `balance` with one staff adjustment in the ledger."""
    change = balance - balance_of(user)
    if change:
        add_credits(user, change, description=f"test set-up: {balance} credits")


def api_client(*, key: str | None = None, user: User | None = None) -> APIClient:
    """A REST API client that sends `key` as its Bearer token, or is `user` without a key."""
    client = APIClient()
    if key is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    if user is not None:
        client.force_authenticate(user)
    return client


def png_bytes(size: tuple[int, int] = (96, 64), fmt: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 60, 40)).save(buffer, fmt)
    return buffer.getvalue()


def png_data_url(size: tuple[int, int] = (300, 200)) -> str:
    """An input image inline, as the app sends a small one to Replicate."""
    return "data:image/png;base64," + base64.b64encode(png_bytes(size)).decode()


def catalog_inputs(
    negative_prompt: str = "blurry, low quality",
) -> Iterator[tuple[catalog.CatalogModel, catalog.Variant, str, dict[str, Any]]]:
    """Every model, resolution and aspect ratio the catalog offers, with the Replicate input it
    sends for them (a seed and a negative prompt set, an inline image where one is needed)."""
    for model in catalog.MODELS.values():
        for variant in model.variants:
            for aspect_ratio in catalog.ASPECT_RATIOS:
                data = catalog.replicate_input(
                    model_key=model.key,
                    resolution=variant.resolution,
                    aspect_ratio=aspect_ratio,
                    prompt=PROMPT,
                    negative_prompt=negative_prompt,
                    seed=11,
                    file_urls=required_file_urls(model),
                )
                yield model, variant, aspect_ratio, data


def required_file_urls(model: catalog.CatalogModel) -> dict[str, str]:
    """Inline files for each input file the model requires: an image, a short video (a source
    or a mask), an audio track."""
    urls = {
        "image": png_data_url(),
        "video": mp4_data_url(),
        "mask": mp4_data_url(),
        "audio": "data:audio/wav;base64," + base64.b64encode(audio_bytes(3.0)).decode(),
    }
    return {name: url for name, url in urls.items() if model.requires(name)}


def clip_bytes(
    seconds: float = 3.0,
    size: tuple[int, int] = (416, 240),
    *,
    fps: int = 8,
    fmt: str = "mp4",
    sound: bool = False,
) -> bytes:
    """A real video of `seconds`: an H.264 MP4 (with AAC sound when `sound`), or a VP8 WebM
    (which a take's source is re-encoded from)."""
    frames = round(seconds * fps)
    if fmt == "mp4":
        track = audio_bytes(seconds + 0.5) if sound else None
        return render_video("A source clip for a take", *size, frames=frames, fps=fps, audio=track)
    buffer = io.BytesIO()
    with av.open(buffer, "w", format=fmt) as container:
        stream = container.add_stream("libvpx", rate=fps)
        assert isinstance(stream, av.VideoStream)
        stream.width, stream.height, stream.pix_fmt = *size, "yuv420p"
        for index in range(frames):
            picture = Image.new("RGB", size, (index * 7 % 256, 90, 160))
            container.mux(stream.encode(av.VideoFrame.from_image(picture)))
        container.mux(stream.encode())
    return buffer.getvalue()


@functools.cache
def mp4_data_url() -> str:
    """A tiny real MP4 inline (eight frames, two seconds), as the app sends a small source."""
    video = render_video("A small source clip", 64, 48, frames=8, fps=4)
    return "data:video/mp4;base64," + base64.b64encode(video).decode()


# The encoder each container's test tracks are made with; mp4 is AAC audio in an MP4 (an .m4a).
AUDIO_CODECS = {"wav": "pcm_s16le", "mp3": "libmp3lame", "mp4": "aac"}


@functools.cache
def audio_bytes(seconds: float = 4.0, fmt: str = "wav", *, rate: int = 8000) -> bytes:
    """A real audio file: a 400 Hz sine of `seconds`, mono, encoded by PyAV into `fmt` (wav, mp3
    or mp4). A WAV's size grows with `rate` (two bytes a sample), for tracks too large to send.
    Written bare (no encoder tag, no ID3), as the app re-muxes uploads: stored byte for byte."""
    period = [round(8000 * math.sin(2 * math.pi * 400 * n / rate)) for n in range(rate // 400)]
    wave = struct.pack(f"<{len(period)}h", *period)
    total = round(seconds * rate)
    buffer = io.BytesIO()
    bare = {"fflags": "+bitexact", **({"id3v2_version": "0"} if fmt == "mp3" else {})}
    with av.open(buffer, "w", format=fmt, container_options=bare) as container:
        stream = container.add_stream(AUDIO_CODECS[fmt], rate=rate, layout="mono")
        assert isinstance(stream, av.AudioStream)
        frame_size = stream.codec_context.frame_size or 1024
        done = 0
        while done < total:
            count = min(frame_size, total - done)
            frame = av.AudioFrame(format="s16", layout="mono", samples=count)
            start = done % len(period) * 2
            frame.planes[0].update((wave * (count // len(period) + 2))[start : start + count * 2])
            frame.sample_rate, frame.pts = rate, done
            container.mux(stream.encode(frame))
            done += count
        container.mux(stream.encode(None))
    return buffer.getvalue()


@functools.cache
def playable_video() -> tuple[bytes, bytes]:
    """A real H.264 MP4 and its first frame as poster, for pages a browser plays (made once)."""
    video = render_video("A red fox running through fresh snow", 320, 180, frames=32)
    with tempfile.NamedTemporaryFile(suffix=".mp4") as file:
        file.write(video)
        file.flush()
        return video, poster_frame(file.name)


def make_generation(
    user: User,
    *,
    status: str = Status.SUCCEEDED,
    model_key: str = "t2v-14B",
    resolution: str = "480p",
    aspect_ratio: str = "16:9",
    prompt: str = PROMPT,
    charged: bool = True,
    video: bytes | None = None,
    playable: bool = False,
    audio: bytes | None = None,
    **fields: Any,
) -> Generation:
    """A generation as the lifecycle leaves it in `status`, priced by the catalog: sent to
    Replicate unless queued, charged (`charged`) and refunded when it failed or was canceled,
    with its input image for an image-to-video model, its `audio` track (WAV bytes) if given,
    and with its video (`video` bytes, a real MP4 when `playable`, else a few bytes) and poster
    when it succeeded."""
    now = timezone.now()
    model = catalog.get_model(model_key)
    generation = Generation(
        user=user,
        kind=model.kind,
        model_key=model_key,
        resolution=resolution,
        aspect_ratio=aspect_ratio,
        prompt=prompt,
        cost=catalog.cost_of(model_key, resolution),
        status=status,
        **fields,
    )
    if status != Status.QUEUED:
        generation.prediction_id = fields.get("prediction_id", secrets.token_hex(12))
        generation.started_at = now
    if status in (Status.PROCESSING, Status.STARTING):
        generation.progress = fields.get("progress", 40)
    if status in (Status.SUCCEEDED, Status.FAILED, Status.CANCELED):
        generation.completed_at = now
    if status == Status.FAILED and "failure_reason" not in fields:
        generation.failure_reason = FailureReason.PROVIDER_ERROR
        generation.failure_detail = fields.get("failure_detail", "CUDA out of memory")
    if status == Status.CANCELED and "failure_reason" not in fields:
        generation.failure_reason = FailureReason.CANCELED_BY_USER
    if model.needs_image:
        generation.input_image.save("input.png", ContentFile(png_bytes()), save=False)
    if audio is not None:
        generation.input_audio.save("audio.wav", ContentFile(audio), save=False)
    if status == Status.SUCCEEDED:
        video, poster = (VIDEO_BYTES if video is None else video), png_bytes(fmt="JPEG")
        if playable:
            video, poster = playable_video()
        generation.video.save("video.mp4", ContentFile(video), save=False)
        generation.poster.save("poster.jpg", ContentFile(poster), save=False)
    generation.save()
    if charged:
        charge_generation(generation)
        if status in (Status.FAILED, Status.CANCELED):
            refund_generation_charge(generation, reason=generation.error_message)
    return generation
