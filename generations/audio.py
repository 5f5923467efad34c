"""Audio tracks (Wan 2.5, the talking portrait): decoded for real, never trusted by name or
content type, and re-muxed.

What we store and send is the first audio stream's packets that decoded, copied into a new file
of the same container without tags (title, artist, comments, cover art, encoder) and without
anything else the upload carried (other streams, bytes after the audio).
"""

from __future__ import annotations

import io

import av
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.base import ContentFile

from generations.catalog import TRACK_LIMITS, AudioLimits
from generations.uploads import CleanUpload

# Wan 2.5's limits (the catalog's default): each model's are its `audio_limits`.
MAX_AUDIO_BYTES = TRACK_LIMITS.max_bytes
MAX_AUDIO_SIZE = f"{MAX_AUDIO_BYTES // 2**20} MB"  # MAX_AUDIO_BYTES for people
MIN_AUDIO_SECONDS = TRACK_LIMITS.min_seconds
MAX_AUDIO_SECONDS = TRACK_LIMITS.max_seconds
# FFmpeg's names of the containers we accept, with the extension stored files get.
FORMATS = {"wav": ".wav", "mp3": ".mp3"}
# What browsers report for WAV and MP3 files (the page's script checks these or the extension).
ACCEPTED_CONTENT_TYPES = ("audio/wav", "audio/x-wav", "audio/wave", "audio/mpeg", "audio/mp3")
ACCEPTED_EXTENSIONS = tuple(FORMATS.values())
NOT_AUDIO = "This file is not a valid WAV or MP3 audio file."
# The muxers write no encoder name, and the MP3 one no ID3 tag at all.
MUXER_OPTIONS = {
    "wav": {"fflags": "+bitexact"},
    "mp3": {"fflags": "+bitexact", "id3v2_version": "0"},
}


def clean_audio(upload: File, limits: AudioLimits = TRACK_LIMITS) -> CleanUpload:
    """Checks size, container and length (the model's `limits`) by decoding the audio, and
    returns the decoded packets re-muxed in the same container.

    Raises ValidationError with a sentence for the user when the file is not an acceptable track.
    """
    if upload.size is not None and upload.size > limits.max_bytes:
        raise ValidationError(
            f"The audio track is larger than {limits.max_bytes // 2**20} MB; choose a smaller one.",
            code="too_large",
        )
    if not upload.size:
        raise ValidationError("The audio file is empty.", code="empty")
    upload.seek(0)
    output = io.BytesIO()
    try:
        with av.open(upload, mode="r") as container:
            if not container.streams.audio:  # an image or a video, say
                raise ValidationError(NOT_AUDIO, code="invalid_audio")
            container_format = container.format.name
            if container_format not in FORMATS:
                raise ValidationError(
                    "Only WAV and MP3 audio tracks are accepted.", code="unsupported_format"
                )
            seconds = _remux_decoded(container, output, limits.max_seconds + 1)
    except ValidationError:
        raise
    except (av.FFmpegError, OSError, ValueError, IndexError, ArithmeticError):
        raise ValidationError(NOT_AUDIO, code="invalid_audio") from None
    finally:
        upload.seek(0)
    # To the tenth of a second shown, so a track of "30.0 s" (an MP3's padding) is not refused.
    if not limits.min_seconds <= round(seconds, 1) <= limits.max_seconds:
        code = "too_short" if seconds < limits.min_seconds else "too_long"
        raise ValidationError(
            f"The audio track must be between {limits.min_seconds} and {limits.max_seconds} "
            f"seconds long; this one is {seconds:.1f} s.",
            code=code,
        )
    extension = FORMATS[container_format]
    return CleanUpload(ContentFile(output.getvalue(), name=f"audio{extension}"), extension, seconds)


def _remux_decoded(
    container: av.container.InputContainer, output: io.BytesIO, enough: float
) -> float:
    """Copies each packet of the first audio stream that decodes into `output` (a packet that
    does not, such as bytes appended after the audio, is left out) and returns the length
    decoded (a truncated or corrupt file fails here). Decoding stops past `enough` (the longest
    length accepted), so a long file costs no more than a valid one; its length is then the
    container's estimate when that is longer."""
    source = container.streams.audio[0]
    decoder = source.codec_context
    seconds = 0.0
    name = container.format.name
    with av.open(output, "w", format=name, container_options=MUXER_OPTIONS[name]) as target:
        stream = target.add_stream_from_template(source)
        for packet in container.demux(source):
            if packet.dts is None:
                continue  # the demuxer's empty end-of-stream packet
            try:
                frames = decoder.decode(packet)
            except av.FFmpegError:
                continue
            seconds += sum(frame.samples / frame.sample_rate for frame in frames)
            if seconds > enough:
                estimate = container.duration / av.time_base if container.duration else 0.0
                return max(seconds, estimate)
            packet.stream = stream
            target.mux(packet)
        seconds += sum(frame.samples / frame.sample_rate for frame in decoder.decode(None))
    if not seconds:
        raise ValidationError(NOT_AUDIO, code="invalid_audio")
    return seconds
