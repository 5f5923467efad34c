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
from dataclasses import dataclass
from fractions import Fraction
from typing import IO

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


def last_frame_png(video: IO[bytes]) -> bytes:
    """The video's last decoded frame as a PNG (the image an extension starts from)."""
    video.seek(0)
    last: av.VideoFrame | None = None
    with av.open(video, "r") as container:
        for frame in container.decode(video=0):
            last = frame
    video.seek(0)
    if last is None:
        raise NotPlayable("The video has no frames.")
    picture = io.BytesIO()
    last.to_image().convert("RGB").save(picture, "PNG")
    return picture.getvalue()


# JOINS: an extension's new clip after its source, in one MP4 with the index first. The source
# fixes the size, the frame rate and the sound; the packets are copied when both are H.264 with
# the same size, rate, pixel format and parameter sets (one encoder's settings), else every frame
# is encoded once more at the source's size and rate.


@dataclass(frozen=True)
class _Track:
    """What decides whether two videos' packets can share one stream."""

    codec: str
    width: int
    height: int
    rate: Fraction
    pix_fmt: str | None
    extradata: bytes | None


def _track(stream: av.VideoStream) -> _Track:
    context = stream.codec_context
    return _Track(
        context.name,
        context.width,
        context.height,
        Fraction(stream.average_rate or 0),
        context.pix_fmt,
        bytes(context.extradata) if context.extradata else None,
    )


def _video_end(path: str) -> Fraction:
    """When the video track ends, in seconds: its last packet's time plus its duration."""
    with av.open(path) as container:
        stream = container.streams.video[0]
        end = Fraction(0)
        for packet in container.demux(stream):
            if packet.pts is not None and packet.time_base is not None:
                end = max(end, (packet.pts + (packet.duration or 0)) * packet.time_base)
    return end


def join(source: str, addition: str, destination: str) -> bool:
    """Writes `source` then `addition` as one MP4 at `destination`, the index first: the
    source's size, frame rate and sound (cut at its last frame), then the addition's frames and
    its own sound when it has one in the same format as the source's (else silent). True when
    the video was re-encoded, False when its packets were copied. av.FFmpegError or NotPlayable
    when either cannot be read."""
    with av.open(source) as first, av.open(addition) as second:
        for part in (first, second):
            if "mp4" not in part.format.name.split(",") or not part.streams.video:
                raise NotPlayable("A part to join is not an MP4 video.")
        same = _track(first.streams.video[0]) == _track(second.streams.video[0])
        is_h264 = first.streams.video[0].codec_context.name == "h264"
    seam = _video_end(source)
    if same and is_h264:
        _join_copied(source, addition, destination, seam)
        return False
    _join_reencoded(source, addition, destination, seam)
    return True


def _sound_matches(ours: av.AudioStream, theirs: av.AudioStream) -> bool:
    a, b = ours.codec_context, theirs.codec_context
    return (a.name, a.sample_rate, a.channels) == (b.name, b.sample_rate, b.channels)


def _join_copied(source: str, addition: str, destination: str, seam: Fraction) -> None:
    with (
        av.open(source) as first,
        av.open(addition) as second,
        av.open(destination, "w", format="mp4", options={"movflags": "+faststart"}) as joined,
    ):
        video = joined.add_stream_from_template(first.streams.video[0])
        sound = _sound_stream(joined, first, second)
        last_sound = _copy_part(first, joined, video, sound, shift=Fraction(0), cut=seam)
        _copy_part(second, joined, video, sound, shift=seam, cut=None, after=last_sound)


def _sound_stream(
    joined: av.container.OutputContainer,
    first: av.container.InputContainer,
    second: av.container.InputContainer,
) -> av.AudioStream | None:
    """The joined video's sound track: the source's format, or the addition's when only it has
    sound; None when neither has any."""
    template = first.streams.audio[:1] or second.streams.audio[:1]
    if not template:
        return None
    stream = joined.add_stream_from_template(template[0])
    assert isinstance(stream, av.AudioStream)
    return stream


def _copy_part(
    part: av.container.InputContainer,
    joined: av.container.OutputContainer,
    video: av.stream.Stream | None,
    sound: av.AudioStream | None,
    *,
    shift: Fraction,
    cut: Fraction | None,
    after: Fraction | None = None,
) -> Fraction | None:
    """Copies the part's video packets (unless `video` is None) and its first sound track's,
    when it matches the joined one, `shift` seconds later; sound starting at or after `cut` (the
    end of the part's frames), or not after `after` (the sound already written: an encoder's
    priming packets overlap it), is left out. Returns when the last sound packet copied starts."""
    streams: list[av.stream.Stream] = [part.streams.video[0]] if video is not None else []
    if sound is not None and part.streams.audio and _sound_matches(sound, part.streams.audio[0]):
        streams.append(part.streams.audio[0])
    if not streams:
        return after
    for packet in part.demux(*streams):
        if packet.dts is None or packet.time_base is None:  # the demuxer's flush packet
            continue
        is_video = packet.stream.type == "video"
        if (
            not is_video
            and cut is not None
            and packet.pts is not None
            and packet.pts * packet.time_base >= cut
        ):
            continue
        ticks = round(shift / packet.time_base)
        packet.dts += ticks
        if packet.pts is not None:
            packet.pts += ticks
        if not is_video:
            starts = packet.dts * packet.time_base
            if after is not None and starts <= after:
                continue
            after = starts
        target = video if is_video else sound
        assert target is not None
        packet.stream = target
        joined.mux(packet)
    return after


def _join_reencoded(source: str, addition: str, destination: str, seam: Fraction) -> None:
    with (
        av.open(source) as first,
        av.open(addition) as second,
        av.open(destination, "w", format="mp4", options={"movflags": "+faststart"}) as joined,
    ):
        original = first.streams.video[0]
        rate = Fraction(original.average_rate or 16)
        their_rate = Fraction(second.streams.video[0].average_rate or rate)
        encoder = _h264_stream(joined, original)
        encoder.codec_context.time_base = 1 / rate  # one tick a frame, numbered in order
        sound = _sound_stream(joined, first, second)
        # The sound first: the muxer holds what it cannot interleave yet, and sound is small.
        with av.open(source) as first_sound, av.open(addition) as second_sound:
            last_sound = _copy_part(first_sound, joined, None, sound, shift=Fraction(0), cut=seam)
            _copy_part(second_sound, joined, None, sound, shift=seam, cut=None, after=last_sound)
        emitted = 0

        def encode(frame: av.VideoFrame) -> None:
            nonlocal emitted
            converted = frame.reformat(
                width=encoder.width, height=encoder.height, format=PLAYABLE_PIXEL_FORMAT
            )
            converted.pts, converted.time_base = emitted, encoder.codec_context.time_base
            joined.mux(encoder.encode(converted))
            emitted += 1

        for frame in first.decode(original):
            encode(frame)
        kept = emitted
        # Each new frame is shown for as many of the source's frames as its time spans.
        for index, frame in enumerate(second.decode(second.streams.video[0])):
            fitted = _cropped_to(frame, encoder.width, encoder.height)
            while (emitted - kept) * their_rate < (index + 1) * rate:
                encode(fitted)
        joined.mux(encoder.encode())


# Shapes closer than this are scaled as they are (a pixel or two of rounding).
ASPECT_TOLERANCE = 0.01


def _cropped_to(frame: av.VideoFrame, width: int, height: int) -> av.VideoFrame:
    """The frame cut around its centre to the shape of `width` x `height` (so scaling it does
    not stretch it), or the frame itself when it has that shape already."""
    wanted = Fraction(width, height)
    shape = Fraction(frame.width, frame.height)
    if abs(shape / wanted - 1) <= ASPECT_TOLERANCE:
        return frame
    picture = frame.to_image()
    if shape > wanted:  # wider: cut the sides
        keep = round(frame.height * wanted)
        left = (frame.width - keep) // 2
        picture = picture.crop((left, 0, left + keep, frame.height))
    else:  # taller: cut the top and bottom
        keep = round(frame.width / wanted)
        top = (frame.height - keep) // 2
        picture = picture.crop((0, top, frame.width, top + keep))
    return av.VideoFrame.from_image(picture)
