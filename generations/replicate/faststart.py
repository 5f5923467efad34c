"""Outputs that play everywhere: the MP4's index (`moov`) before its media (`mdat`).

iOS Safari and players that stream over HTTP need the index first to start playing; some models
write it last. Such a file is remuxed with `+faststart`, copying the packets (no re-encode, so no
quality loss and little time). The pixel format is checked too: only `yuv420p` plays everywhere.
"""

from __future__ import annotations

import logging
import os
import struct

import av

logger = logging.getLogger(__name__)

PLAYABLE_PIXEL_FORMAT = "yuv420p"


def index_first(path: str) -> bool:
    """Whether the top-level `moov` box comes before the first `mdat` box."""
    with open(path, "rb") as mp4:
        while header := mp4.read(8):
            if len(header) < 8:
                break
            size, kind = struct.unpack(">I4s", header)
            if kind == b"moov":
                return True
            if kind == b"mdat":
                return False
            if size == 1:  # a 64-bit size follows the header
                size = struct.unpack(">Q", mp4.read(8))[0] - 8
            elif size == 0:  # the box runs to the end of the file
                break
            if size < 8:
                break  # malformed: the decoder's checks decide
            mp4.seek(size - 8, 1)
    return False


def pixel_format(path: str) -> str | None:
    with av.open(path) as container:
        stream = container.streams.video[0]
        return stream.codec_context.pix_fmt


def playable_copy(path: str, scratch: str, generation_id: int) -> str:
    """The path of a version of the MP4 with its index first: `path` itself when it already is,
    else a remuxed copy in the `scratch` folder (or `path` when remuxing fails: it still plays
    once downloaded)."""
    log_unusual_pixels(path, generation_id)
    if index_first(path):
        return path
    destination = os.path.join(scratch, "faststart.mp4")
    try:
        remux_faststart(path, destination)
    except av.FFmpegError as error:
        logger.warning("generation %s: could not move the index first (%s)", generation_id, error)
        return path
    logger.info("generation %s: moved the output's index first (faststart)", generation_id)
    return destination


def remux_faststart(source: str, destination: str) -> None:
    """Copies every stream's packets into a new MP4 with the index first (the muxer's second
    pass needs a real file)."""
    with (
        av.open(source) as original,
        av.open(destination, "w", format="mp4", options={"movflags": "+faststart"}) as copy,
    ):
        streams = {
            stream.index: copy.add_stream_from_template(stream)
            for stream in original.streams
            if stream.type in ("video", "audio")
        }
        for packet in original.demux(*(original.streams[index] for index in streams)):
            if packet.dts is None:  # the demuxer's flush packet
                continue
            packet.stream = streams[packet.stream.index]
            copy.mux(packet)


def log_unusual_pixels(path: str, generation_id: int) -> None:
    """Another pixel format plays in desktop browsers but not on every phone: worth knowing."""
    found = pixel_format(path)
    if found != PLAYABLE_PIXEL_FORMAT:
        logger.warning(
            "generation %s: the output's pixels are %s, not %s; some phones may not play it.",
            generation_id,
            found,
            PLAYABLE_PIXEL_FORMAT,
        )
