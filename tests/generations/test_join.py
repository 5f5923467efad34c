"""Joining an extension's new clip after its source (generations.media.join): the sound of each
part where it belongs, and parts that are not videos refused."""

from __future__ import annotations

from pathlib import Path

import av
import pytest
from PIL import Image

from generations import media
from generations.simulator.video import encode_pictures
from tests.factories import clip_bytes, png_bytes


def written(folder: Path, name: str, data: bytes) -> str:
    path = folder / name
    path.write_bytes(data)
    return str(path)


def sound_span(path: str) -> tuple[float, float]:
    """When the sound starts and ends, in seconds."""
    with av.open(path, "r") as container:
        stream = container.streams.audio[0]
        times = [
            (float(packet.pts * packet.time_base), float(packet.duration * packet.time_base))
            for packet in container.demux(stream)
            if packet.pts is not None and packet.time_base is not None and packet.duration
        ]
    return min(start for start, _ in times), max(start + length for start, length in times)


def test_each_part_keeps_its_own_sound_in_its_own_time(tmp_path):
    source = written(tmp_path, "source.mp4", clip_bytes(2.0, sound=True))
    addition = written(tmp_path, "new.mp4", clip_bytes(2.0, sound=True))
    joined = str(tmp_path / "joined.mp4")

    assert media.join(source, addition, joined) is False  # same encoder: packets copied

    start, end = sound_span(joined)
    # The source's sound is cut at its last frame; the new part's (as long as its frames)
    # follows it.
    assert start == pytest.approx(0, abs=0.03)  # an AAC encoder's priming starts just before
    assert end == pytest.approx(2.0 + 2.0, abs=0.1)
    assert media.index_first(joined)


def test_a_silent_source_is_silent_until_the_new_part_speaks(tmp_path):
    source = written(tmp_path, "source.mp4", clip_bytes(2.0))
    addition = written(tmp_path, "new.mp4", clip_bytes(1.0, (640, 360), fps=16, sound=True))
    joined = str(tmp_path / "joined.mp4")

    assert media.join(source, addition, joined) is True  # another size and rate: re-encoded

    start, _ = sound_span(joined)
    assert start == pytest.approx(2.0, abs=0.05)
    with av.open(joined, "r") as container:
        stream = container.streams.video[0]
        assert (stream.codec_context.width, stream.codec_context.height) == (416, 240)
        assert sum(1 for _ in container.decode(stream)) == 16 + 8


@pytest.mark.parametrize("broken", ["source", "addition"])
def test_a_part_that_is_not_a_video_is_refused(tmp_path, broken):
    parts = {
        "source": written(tmp_path, "source.mp4", clip_bytes(2.0)),
        "addition": written(tmp_path, "new.mp4", clip_bytes(1.0)),
    }
    parts[broken] = written(tmp_path, "broken.mp4", png_bytes())

    with pytest.raises((av.FFmpegError, media.NotPlayable)):
        media.join(parts["source"], parts["addition"], str(tmp_path / "joined.mp4"))


def test_a_new_clip_of_another_shape_is_cut_to_the_sources_not_stretched(tmp_path):
    # 640x360 with red bands 80 pixels wide at each side: a 4:3 cut keeps only the green.
    picture = Image.new("RGB", (640, 360), (0, 200, 0))
    for left in (0, 560):
        picture.paste((220, 0, 0), (left, 0, left + 80, 360))
    addition = written(tmp_path, "new.mp4", encode_pictures([picture] * 8, 8))
    source = written(tmp_path, "source.mp4", clip_bytes(1.0, (320, 240), fps=8))
    joined = str(tmp_path / "joined.mp4")

    media.join(source, addition, joined)

    with av.open(joined, "r") as container:
        last = list(container.decode(video=0))[-1].to_image()
    assert last.size == (320, 240)
    red, green, _ = last.getpixel((2, 120))
    assert green > 150 and red < 60
