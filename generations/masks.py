"""The mask of a region edit (VACE): a box the user draws on the source's first frame, rendered
by us into a mask video, or an uploaded mask video, checked against the source.

The box is given in fractions of the frame (0 to 1 from the top left corner), so a page can
draw it on a poster of any displayed size. The mask video is white inside the box (the model
regenerates it) and black outside (it keeps the source), the same size, frame rate and number of
frames as the source: H.264 yuv420p, as every input video we send.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from fractions import Fraction

import av
from django.core.files import File
from PIL import Image, ImageDraw

from generations.media import PLAYABLE_PIXEL_FORMAT, REENCODE_OPTIONS, h264_encoder
from generations.source_videos import SourceVideo

# The smallest box a model can do anything with, in pixels a side.
MIN_BOX_PIXELS = 8
CHUNK = 1024 * 1024


@dataclass(frozen=True)
class MaskBox:
    """A box in fractions of the frame: its top left corner (x, y) and its size."""

    x: float
    y: float
    width: float
    height: float

    def errors(self, frame_width: int, frame_height: int) -> list[str]:
        """Why this box cannot be a mask of a frame of this size (nothing when it can)."""
        values = (self.x, self.y, self.width, self.height)
        if any(not 0 <= value <= 1 for value in values):
            return ["x, y, width and height are fractions of the frame, from 0 to 1."]
        if self.x + self.width > 1 or self.y + self.height > 1:
            return ["The box goes outside the frame: x + width and y + height must be at most 1."]
        left, top, right, bottom = self.pixels(frame_width, frame_height)
        if min(right - left, bottom - top) < MIN_BOX_PIXELS:
            return [
                f"The box is smaller than {MIN_BOX_PIXELS} pixels a side on this "
                f"{frame_width}x{frame_height} video; draw a larger one."
            ]
        return []

    def pixels(self, frame_width: int, frame_height: int) -> tuple[int, int, int, int]:
        """(left, top, right, bottom), right and bottom excluded, on even pixels so the 4:2:0
        colour planes of the video do not blur its edges."""

        def even(fraction: float, size: int) -> int:
            return min(round(fraction * size / 2) * 2, size)

        return (
            even(self.x, frame_width),
            even(self.y, frame_height),
            even(self.x + self.width, frame_width),
            even(self.y + self.height, frame_height),
        )


def render_mask(source: SourceVideo, box: MaskBox) -> File:
    """The mask video of `box` over `source`, in a temporary file deleted once closed."""
    frames, rate, width, height = _frames_rate_and_size(source.file)
    picture = Image.new("RGB", (width, height), "black")
    left, top, right, bottom = box.pixels(width, height)
    ImageDraw.Draw(picture).rectangle((left, top, right - 1, bottom - 1), fill="white")
    with tempfile.TemporaryDirectory(prefix="mask-") as scratch:
        path = os.path.join(scratch, "mask.mp4")
        with av.open(path, "w", format="mp4", options={"movflags": "+faststart"}) as output:
            stream = output.add_stream(h264_encoder(), rate=rate, options=REENCODE_OPTIONS)
            assert isinstance(stream, av.VideoStream)
            stream.width, stream.height = width, height
            stream.pix_fmt = PLAYABLE_PIXEL_FORMAT
            frame = av.VideoFrame.from_image(picture).reformat(format=PLAYABLE_PIXEL_FORMAT)
            for index in range(frames):
                frame.pts = index
                output.mux(stream.encode(frame))
            output.mux(stream.encode())
        stored = tempfile.TemporaryFile()  # noqa: SIM115 (closed by GenerationParams.close_files)
        with open(path, "rb") as written:
            shutil.copyfileobj(written, stored, CHUNK)
    stored.seek(0)
    return File(stored, name="mask.mp4")


def _frames_rate_and_size(video: File) -> tuple[int, Fraction, int, int]:
    """The number of frames of the normalised source (the video sent), its frame rate and
    size."""
    video.seek(0)
    try:
        with av.open(video, mode="r") as container:
            stream = container.streams.video[0]
            frames = len([packet for packet in container.demux(stream) if packet.dts is not None])
            rate = Fraction(stream.average_rate or 16)
            width, height = stream.codec_context.width, stream.codec_context.height
    finally:
        video.seek(0)
    return max(frames, 1), rate, width, height


def size_errors(mask: SourceVideo, source: SourceVideo) -> list[str]:
    """An uploaded mask must cover the source frame for frame: same size, at least as long."""
    if (mask.width, mask.height) != (source.width, source.height):
        return [
            f"The mask video is {mask.width}x{mask.height} pixels; it must be the source's "
            f"{source.width}x{source.height}."
        ]
    if round(mask.seconds, 1) < round(source.seconds, 1):
        return [
            f"The mask video is {mask.seconds:.1f} s long; it must last as long as the source "
            f"({source.seconds:.1f} s)."
        ]
    return []
