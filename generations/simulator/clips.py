"""Input videos (a source clip, a driving video, a mask): fetched like images (inputs.py), then
decoded into frames."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass

import av
from PIL import Image

from .inputs import InputLoadError, fetch

# Frames kept of an input video: enough for the tests' and demos' short clips, bounded memory.
MAX_FRAMES = 300


@dataclass(frozen=True)
class Clip:
    frames: list[Image.Image]
    fps: float
    data: bytes  # the file as fetched: its sound is muxed into outputs that keep it
    has_audio: bool

    @property
    def seconds(self) -> float:
        return len(self.frames) / self.fps


def load_clip(
    url: str,
    *,
    name: str,
    local_content: Callable[[str], bytes | None],
    max_bytes: int,
    timeout: float = 10.0,
) -> Clip:
    """The video's frames (at most MAX_FRAMES); InputLoadError when it is not a video."""
    data = fetch(url, name=name, local_content=local_content, max_bytes=max_bytes, timeout=timeout)
    try:
        with av.open(io.BytesIO(data), mode="r") as container:
            if not container.streams.video:
                raise InputLoadError(f"Input {name} has no video stream")
            stream = container.streams.video[0]
            fps = float(stream.average_rate or 16)
            frames = []
            for frame in container.decode(stream):
                frames.append(frame.to_image().convert("RGB"))
                if len(frames) >= MAX_FRAMES:
                    break
            has_audio = bool(container.streams.audio)
    except InputLoadError:
        raise
    except (av.FFmpegError, OSError, ValueError, IndexError, ArithmeticError) as error:
        raise InputLoadError(f"Input {name} could not be decoded: {error}") from None
    if not frames:
        raise InputLoadError(f"Input {name} has no frames")
    return Clip(frames, fps, data, has_audio)
