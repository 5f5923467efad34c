"""MP4 work, on files on disk: proving an output is a playable video and taking its poster frame,
and making it play everywhere: the index (`moov`) before the media (`mdat`), and `yuv420p` pixels.
Nothing here knows generations or Replicate.

iOS Safari and players that stream over HTTP need the index first to start playing; some models
write it last. Such a file is remuxed with `+faststart`, copying the packets (no re-encode, so no
quality loss and little time). Pixels in another format (4:4:4, 10-bit) play in desktop browsers
but not on many phones, and no remux can change them: only then is the video re-encoded, to H.264
in yuv420p at a near-transparent quality, its audio copied as it is.
"""

from __future__ import annotations

import io
import logging
import os
import struct

import av

logger = logging.getLogger(__name__)

PLAYABLE_PIXEL_FORMAT = "yuv420p"
POSTER_QUALITY = 85


class NotPlayable(Exception):
    """The file is not an MP4 video that decodes; the sentence says what is wrong."""


def poster_frame(path: str) -> bytes:
    """The first frame of the MP4 as a JPEG (NotPlayable if it is not a playable video)."""
    try:
        with av.open(path) as container:
            if "mp4" not in container.format.name.split(","):
                raise NotPlayable("The output is not an MP4 video.")
            if not container.streams.video:
                raise NotPlayable("The output has no video track.")
            for frame in container.decode(video=0):
                image = frame.to_image()
                break
            else:
                raise NotPlayable("The output video has no frames.")
    except av.FFmpegError as error:
        raise NotPlayable(f"The output is not a readable video ({error}).") from None
    poster = io.BytesIO()
    image.convert("RGB").save(poster, "JPEG", quality=POSTER_QUALITY)
    return poster.getvalue()


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


# Tried in order; libx264 is in PyAV's wheels, FFmpeg's own name for it is the fallback.
H264_ENCODERS = ("libx264", "h264")
# x264's constant quality: 18 is close to transparent, so the one re-encode costs little.
REENCODE_OPTIONS = {"preset": "veryfast", "crf": "18"}


def pixel_format(path: str) -> str | None:
    with av.open(path) as container:
        stream = container.streams.video[0]
        return stream.codec_context.pix_fmt


def playable_copy(path: str, scratch: str, generation_id: int) -> str:
    """The path of a version of the MP4 that plays everywhere: `path` itself when it already
    does, else a copy in the `scratch` folder (or `path` when making one fails: it still plays
    once downloaded, at least on a desktop)."""
    found = pixel_format(path)
    if found == PLAYABLE_PIXEL_FORMAT and index_first(path):
        return path
    destination = os.path.join(scratch, "playable.mp4")
    try:
        if found == PLAYABLE_PIXEL_FORMAT:
            remux_faststart(path, destination)
        else:
            reencode_yuv420p(path, destination)
    except av.FFmpegError as error:
        logger.warning(
            "generation %s: could not make the output playable (%s)", generation_id, error
        )
        return path
    if found == PLAYABLE_PIXEL_FORMAT:
        logger.info("generation %s: moved the output's index first (faststart)", generation_id)
    else:
        logger.info(
            "generation %s: re-encoded the output from %s to %s",
            generation_id,
            found,
            PLAYABLE_PIXEL_FORMAT,
        )
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


def _h264_stream(copy: av.container.OutputContainer, video: av.VideoStream) -> av.VideoStream:
    """An H.264 yuv420p stream for `video`'s frames (even sizes, as 4:2:0 needs)."""
    encoder = copy.add_stream(
        h264_encoder(), rate=video.average_rate or 16, options=REENCODE_OPTIONS
    )
    assert isinstance(encoder, av.VideoStream)
    width, height = video.codec_context.width, video.codec_context.height
    encoder.width, encoder.height = width - width % 2, height - height % 2
    encoder.pix_fmt = PLAYABLE_PIXEL_FORMAT
    return encoder


def _encode_frame(encoder: av.VideoStream, frame: av.VideoFrame) -> list[av.Packet]:
    converted = frame.reformat(
        width=encoder.width, height=encoder.height, format=PLAYABLE_PIXEL_FORMAT
    )
    converted.pts = None  # numbered afresh at the stream's rate
    return encoder.encode(converted)


def transcode_h264_aac(source: str, destination: str) -> None:
    """Any video FFmpeg decodes (WebM, MOV, VP9, ProRes...) as an MP4 that plays everywhere:
    H.264 yuv420p with the index first, and its first audio stream, if any, in AAC."""
    with (
        av.open(source) as original,
        av.open(destination, "w", format="mp4", options={"movflags": "+faststart"}) as copy,
    ):
        video = original.streams.video[0]
        encoder = _h264_stream(copy, video)
        sound = original.streams.audio[:1]
        aac = copy.add_stream("aac", rate=48_000, layout="stereo") if sound else None
        resampler = av.AudioResampler(format="fltp", layout="stereo", rate=48_000)
        samples = 0
        for frame in original.decode(video, *sound):
            if isinstance(frame, av.VideoFrame):
                copy.mux(_encode_frame(encoder, frame))
            elif isinstance(aac, av.AudioStream) and isinstance(frame, av.AudioFrame):
                for resampled in resampler.resample(frame):
                    resampled.pts = samples
                    samples += resampled.samples
                    copy.mux(aac.encode(resampled))
        copy.mux(encoder.encode())
        if isinstance(aac, av.AudioStream):
            copy.mux(aac.encode(None))


def reencode_yuv420p(source: str, destination: str) -> None:
    """Re-encodes the video stream to H.264 in yuv420p (even sizes, as 4:2:0 needs) with the
    index first; an audio stream's packets are copied unchanged."""
    with (
        av.open(source) as original,
        av.open(destination, "w", format="mp4", options={"movflags": "+faststart"}) as copy,
    ):
        video = original.streams.video[0]
        encoder = _h264_stream(copy, video)
        audio = {
            stream.index: copy.add_stream_from_template(stream)
            for stream in original.streams.audio[:1]
        }
        for packet in original.demux(video, *(original.streams[index] for index in audio)):
            if packet.stream.type == "audio":
                if packet.dts is not None:  # not the demuxer's flush packet
                    packet.stream = audio[packet.stream.index]
                    copy.mux(packet)
                continue
            for frame in packet.decode():
                assert isinstance(frame, av.VideoFrame)
                copy.mux(_encode_frame(encoder, frame))
        copy.mux(encoder.encode())


def h264_encoder() -> str:
    for name in H264_ENCODERS:
        try:
            av.codec.Codec(name, "w")
        except ValueError:  # not in this build
            continue
        return name
    raise av.FFmpegError(0, "this PyAV build has no H.264 encoder")
