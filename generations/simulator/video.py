"""Renders the simulator's output: a real, browser-playable H.264 MP4, cheap enough for tests.

Text-to-video draws a scene derived from the prompt and seed (a drifting gradient, bouncing
shapes, the prompt as a caption); image-to-video slowly zooms and pans over the input image.
"""

from __future__ import annotations

import colorsys
import functools
import hashlib
import io
import random
import tempfile
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import av
from PIL import Image, ImageDraw, ImageFont

# Chromium plays H.264 in MP4; mpeg4 part 2 is only a last resort so rendering never breaks.
_ENCODERS = ("libx264", "libopenh264", "h264", "mpeg4")
_CAPTION_LINES = 3


def render_video(
    prompt: str,
    width: int,
    height: int,
    frames: int,
    fps: int = 16,
    seed: int = 0,
    image: Image.Image | None = None,
    faststart: bool = True,
    pixel_format: str = "yuv420p",
    audio: bytes | None = None,
) -> bytes:
    """An MP4 of `frames` frames at `fps`; width and height must be even (yuv420p). Without
    `faststart` the index comes last, as some models write it; another `pixel_format` (yuv444p)
    makes a video that desktop browsers play and many phones do not. `audio` (a WAV or MP3)
    becomes its sound, in AAC, cut to the video's length, as Wan 2.5 syncs a track."""
    if width % 2 or height % 2 or width < 2 or height < 2:
        raise ValueError("width and height must be even and positive")
    if image is not None:
        pictures = ken_burns(image, width, height, frames)
    else:
        pictures = _prompt_scene(prompt, seed, width, height, frames)
    return _encode(pictures, width, height, fps, faststart, pixel_format, audio)


def encode_pictures(
    pictures: list[Image.Image],
    fps: int,
    faststart: bool = True,
    pixel_format: str = "yuv420p",
    audio: bytes | None = None,
) -> bytes:
    """An MP4 of the given pictures (the editing models' outputs, takes.py), at the size of the
    first one; `audio` as in render_video."""
    width, height = pictures[0].size
    return _encode(iter(pictures), width, height, fps, faststart, pixel_format, audio)


@functools.cache
def _h264_encoder() -> str:
    """The first usable encoder of `_ENCODERS` in this PyAV build."""
    for name in _ENCODERS:
        try:
            av.codec.Codec(name, "w")
        except ValueError:  # UnknownCodecError: not in this build
            continue
        return name
    raise RuntimeError("PyAV has no H.264 or MPEG-4 encoder")


def _encode(
    pictures: Iterator[Image.Image],
    width: int,
    height: int,
    fps: int,
    faststart: bool,
    pixel_format: str,
    audio: bytes | None,
) -> bytes:
    encoder = _h264_encoder()
    options = {"preset": "veryfast", "crf": "23"} if encoder == "libx264" else {}
    # +faststart moves the index to the front so browsers start playing before the end
    # arrives; the muxer needs a real file for that second pass.
    with tempfile.TemporaryDirectory(prefix="replicate-simulator-") as directory:
        path = Path(directory) / "output.mp4"
        muxer = {"movflags": "+faststart"} if faststart else {}
        with av.open(str(path), "w", format="mp4", options=muxer) as out:
            stream = out.add_stream(encoder, rate=fps, options=options)
            if not isinstance(stream, av.VideoStream):
                raise RuntimeError(f"{encoder} is not a video encoder")
            stream.width, stream.height, stream.pix_fmt = width, height, pixel_format
            sound = out.add_stream("aac", rate=_AUDIO_RATE, layout="mono") if audio else None
            count = 0
            for picture in pictures:
                out.mux(stream.encode(av.VideoFrame.from_image(picture)))
                count += 1
            out.mux(stream.encode())
            if audio and isinstance(sound, av.AudioStream):
                _mux_sound(out, sound, audio, seconds=count / fps)
        return path.read_bytes()


_AUDIO_RATE = 44_100


def _mux_sound(
    out: av.container.OutputContainer, stream: av.AudioStream, audio: bytes, seconds: float
) -> None:
    """The track's first `seconds`, resampled to the AAC encoder's format and encoded."""
    resampler = av.AudioResampler(format="fltp", layout="mono", rate=_AUDIO_RATE)
    wanted = round(seconds * _AUDIO_RATE)
    written = 0
    with av.open(io.BytesIO(audio), mode="r") as track:
        for frame in track.decode(audio=0):
            for resampled in resampler.resample(frame):
                if written >= wanted:
                    break
                resampled.pts = written
                written += resampled.samples
                out.mux(stream.encode(resampled))
    out.mux(stream.encode(None))


class _Shape(NamedTuple):
    """A disc drifting across the frames."""

    x: float
    y: float
    dx: float
    dy: float
    r: float
    fill: tuple[int, int, int]


def _prompt_scene(
    prompt: str, seed: int, width: int, height: int, frames: int
) -> Iterator[Image.Image]:
    digest = hashlib.sha256(f"{seed}:{prompt}".encode()).digest()
    rng = random.Random(digest)
    corners = Image.new("RGB", (2, 2))
    corners.putdata([_colour(rng, 0.35) for _ in range(4)])
    # A gradient larger than the frame, so each frame can show a drifting window of it.
    margin_x, margin_y = width // 4, height // 4
    background = corners.resize((width + margin_x, height + margin_y), Image.Resampling.BILINEAR)
    shapes = [
        _Shape(
            x=rng.uniform(0, width),
            y=rng.uniform(0, height),
            dx=rng.uniform(-1, 1) * width / max(frames, 1) * 0.8,
            dy=rng.uniform(-1, 1) * height / max(frames, 1) * 0.8,
            r=rng.uniform(0.05, 0.12) * min(width, height),
            fill=_colour(rng, 0.9),
        )
        for _ in range(5)
    ]
    caption, caption_box = _caption(prompt, width, height)
    for index in range(frames):
        t = index / max(frames - 1, 1)
        left = round(margin_x * t)
        top = round(margin_y * (1 - abs(1 - 2 * t)))  # down, then back up
        picture = background.crop((left, top, left + width, top + height))
        draw = ImageDraw.Draw(picture)
        for shape in shapes:
            # Bounce off the edges so the motion stays inside the frame for any length.
            x = _bounce(shape.x + shape.dx * index, width)
            y = _bounce(shape.y + shape.dy * index, height)
            radius = shape.r
            draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=shape.fill)
        draw.rectangle((0, 0, round(width * t), max(height // 120, 2)), fill=(255, 255, 255))
        picture.paste(caption, caption_box, caption)
        yield picture


def _caption(prompt: str, width: int, height: int) -> tuple[Image.Image, tuple[int, int]]:
    """The prompt on a translucent band, rendered once and pasted on every frame."""
    size = max(height // 24, 12)
    font = ImageFont.load_default(size=size)
    lines = textwrap.wrap(
        " ".join(prompt.split()),
        width=max(int(width / (size * 0.55)), 10),
        max_lines=_CAPTION_LINES,
        placeholder=" ...",
    )
    line_height = round(size * 1.3)
    band = Image.new("RGBA", (width, line_height * (len(lines) + 1)), (0, 0, 0, 140))
    draw = ImageDraw.Draw(band)
    for number, line in enumerate(lines):
        draw.text((size, size // 2 + number * line_height), line, font=font, fill="white")
    return band, (0, height - band.height)


def ken_burns(image: Image.Image, width: int, height: int, frames: int) -> Iterator[Image.Image]:
    source = image.convert("RGB")
    # Shrink huge inputs once, so each frame resamples a small picture.
    source.thumbnail((width * 2, height * 2), Image.Resampling.LANCZOS)
    cover = max(width / source.width, height / source.height)
    view_w, view_h = width / cover, height / cover
    for index in range(frames):
        t = index / max(frames - 1, 1)
        zoom = 1 + 0.15 * t
        box_w, box_h = view_w / zoom, view_h / zoom
        # Drift from the centre towards the upper left as the zoom tightens.
        left = (source.width - box_w) / 2 - (source.width - box_w) * 0.2 * t
        top = (source.height - box_h) / 2 - (source.height - box_h) * 0.2 * t
        box = (left, top, left + box_w, top + box_h)
        yield source.resize((width, height), Image.Resampling.BILINEAR, box=box)


def _bounce(position: float, limit: int) -> float:
    period = 2 * limit
    position %= period
    return position if position <= limit else period - position


def _colour(rng: random.Random, brightness: float) -> tuple[int, int, int]:
    red, green, blue = colorsys.hsv_to_rgb(rng.random(), 0.8, brightness)
    return round(red * 255), round(green * 255), round(blue * 255)
