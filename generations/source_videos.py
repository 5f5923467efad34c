"""Source videos of takes: a user's own finished video, or an uploaded clip (MP4, MOV or WebM).

Never trusted by name or content type: the file is opened and every frame decoded with PyAV, and
refused with a sentence for the user when it is not a readable video, is shorter or longer than
the chosen model accepts, or too large in pixels or bytes. What is stored and sent is an MP4 that
plays everywhere, written by us: the packets copied with the index first when the upload is
already H.264 yuv420p (AAC sound or none) in MP4, else re-encoded (generations/media.py).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass

import av
from django.core.exceptions import ValidationError
from django.core.files import File

from generations.catalog import SourceLimits
from generations.media import PLAYABLE_PIXEL_FORMAT, remux_faststart, transcode_h264_aac

# FFmpeg's demuxer names for the containers we accept.
CONTAINERS = frozenset({"mov", "mp4", "webm", "matroska"})
ACCEPTED_CONTENT_TYPES = ("video/mp4", "video/quicktime", "video/webm")
NOT_A_VIDEO = "This file is not a readable MP4, MOV or WebM video."
CHUNK = 1024 * 1024


@dataclass(frozen=True)
class SourceVideo:
    """The normalised MP4 in a temporary file (deleted when closed), and what decoding found."""

    file: File
    seconds: float
    width: int
    height: int
    has_audio: bool

    @property
    def orientation(self) -> str:
        return "9:16" if self.height > self.width else "16:9"


def clean_source_video(
    upload: File, limits: SourceLimits, what: str = "source video"
) -> SourceVideo:
    """Checks the upload against `limits` by decoding it, and returns it as an MP4 that plays
    everywhere. ValidationError with a sentence naming `what` otherwise."""
    if upload.size is not None and upload.size > limits.max_bytes:
        raise ValidationError(
            f"The {what} is larger than {limits.max_bytes // 2**20} MB; choose a smaller one.",
            code="too_large",
        )
    if not upload.size:
        raise ValidationError(f"The {what} file is empty.", code="empty")
    with tempfile.TemporaryDirectory(prefix="source-video-") as scratch:
        original = os.path.join(scratch, "upload")
        upload.seek(0)
        with open(original, "wb") as copy:
            shutil.copyfileobj(upload, copy, CHUNK)
        upload.seek(0)
        try:
            found = _decoded(original, limits, what)
            normalised = os.path.join(scratch, "source.mp4")
            if found.plays_everywhere:
                remux_faststart(original, normalised)
            else:
                transcode_h264_aac(original, normalised)
        except ValidationError:
            raise
        except (av.FFmpegError, OSError, ValueError, IndexError, ArithmeticError):
            raise ValidationError(NOT_A_VIDEO, code="invalid_video") from None
        # Outlives the scratch folder: an anonymous temporary file, gone once closed.
        stored = tempfile.TemporaryFile()  # noqa: SIM115 (closed by GenerationParams.close_files)
        with open(normalised, "rb") as result:
            shutil.copyfileobj(result, stored, CHUNK)
        stored.seek(0)
    return SourceVideo(
        File(stored, name="source.mp4"),
        seconds=found.seconds,
        width=found.width,
        height=found.height,
        has_audio=found.has_audio,
    )


@dataclass(frozen=True)
class _Found:
    seconds: float
    width: int
    height: int
    has_audio: bool
    plays_everywhere: bool


def _decoded(path: str, limits: SourceLimits, what: str) -> _Found:
    """Opens the file and decodes its video stream to the end (a truncated or corrupt file fails
    here); decoding stops past the longest length accepted."""
    with av.open(path) as container:
        names = set(container.format.name.split(","))
        if not names & CONTAINERS or not container.streams.video:
            raise ValidationError(NOT_A_VIDEO, code="invalid_video")
        stream = container.streams.video[0]
        width, height = stream.codec_context.width, stream.codec_context.height
        if not width or not height:
            raise ValidationError(NOT_A_VIDEO, code="invalid_video")
        if width * height > limits.max_pixels or max(width, height) > limits.max_side:
            raise ValidationError(
                f"The {what} is {width}x{height} pixels; use one of at most "
                f"{limits.max_pixels // 10**6} megapixels and {limits.max_side} pixels a side.",
                code="too_many_pixels",
            )
        if min(width, height) < limits.min_side:
            raise ValidationError(
                f"The {what} must be at least {limits.min_side} pixels on each side.",
                code="too_small",
            )
        seconds = _decoded_seconds(container, stream, limits.max_seconds + 1)
        audio = container.streams.audio
        plays_everywhere = (
            "mp4" in names
            and stream.codec_context.name == "h264"
            and stream.codec_context.pix_fmt == PLAYABLE_PIXEL_FORMAT
            and (not audio or audio[0].codec_context.name == "aac")
        )
    # To the tenth of a second shown, so "10.0 s" of a clip with a rounding tail is accepted.
    if not limits.min_seconds <= round(seconds, 1) <= limits.max_seconds:
        code = "too_short" if seconds < limits.min_seconds else "too_long"
        raise ValidationError(
            f"The {what} must be between {limits.min_seconds:g} and {limits.max_seconds:g} "
            f"seconds long for this model; this one is {seconds:.1f} s.",
            code=code,
        )
    return _Found(seconds, width, height, bool(audio), plays_everywhere)


def _decoded_seconds(
    container: av.container.InputContainer, stream: av.VideoStream, enough: float
) -> float:
    """The length of the frames that decode: the last one's time plus its duration."""
    frames = 0
    end = 0.0
    rate = float(stream.average_rate or 0) or 16.0
    for frame in container.decode(stream):
        frames += 1
        if frame.time is not None:
            end = max(end, frame.time + 1 / rate)
        if end > enough:
            # Too long whatever the rest holds: its length is the container's, when longer.
            estimate = container.duration / av.time_base if container.duration else 0.0
            return max(end, estimate)
    if not frames:
        raise ValidationError(NOT_A_VIDEO, code="invalid_video")
    return end or frames / rate
