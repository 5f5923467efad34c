"""Audio tracks (Wan 2.5's `audio`): fetched like input images, then decoded for their length."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass

import av

from .inputs import InputLoadError, fetch

# What the Wan 2.5 models take (MODELS.md): a WAV or MP3 of 3 to 30 seconds.
FORMATS = ("wav", "mp3")
MIN_SECONDS = 3
MAX_SECONDS = 30


@dataclass(frozen=True)
class AudioTrack:
    data: bytes  # the file as fetched, muxed into the output video (video.py)
    seconds: float


def load_audio(
    url: str,
    *,
    local_content: Callable[[str], bytes | None],
    max_bytes: int,
    timeout: float = 10.0,
) -> AudioTrack:
    """The track, decoded once to check it; InputLoadError when it cannot be fetched or
    decoded, or is not a WAV or MP3 of MIN_SECONDS to MAX_SECONDS."""
    data = fetch(
        url, name="audio", local_content=local_content, max_bytes=max_bytes, timeout=timeout
    )
    seconds = 0.0
    try:
        with av.open(io.BytesIO(data), mode="r") as container:
            kind = container.format.name
            if kind not in FORMATS or not container.streams.audio:
                raise InputLoadError(f"Input audio must be a WAV or MP3 file, not {kind}")
            for frame in container.decode(container.streams.audio[0]):
                seconds += frame.samples / frame.sample_rate
    except InputLoadError:
        raise
    except (av.FFmpegError, OSError, ValueError, IndexError, ArithmeticError) as error:
        raise InputLoadError(f"Input audio could not be decoded: {error}") from None
    # To the tenth of a second, as our app measures it (MP3 padding must not tip 30.0 s over).
    if not MIN_SECONDS <= round(seconds, 1) <= MAX_SECONDS:
        raise InputLoadError(
            f"Input audio must be {MIN_SECONDS} to {MAX_SECONDS} seconds long, "
            f"not {seconds:.1f} seconds"
        )
    return AudioTrack(data, seconds)
