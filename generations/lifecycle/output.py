"""Copying a finished video from Replicate into our storage, with a poster frame.

Replicate deletes outputs an hour after the prediction, so the copy happens as soon as it
succeeds. The download is streamed to a temporary file with a size cap, opened with PyAV to
prove it is an MP4 video that decodes, and its first frame becomes the poster. Only then is that
file saved to storage (a bucket reads it from the file in parts), never all in memory: with its
index moved first when the model wrote it last (generations.media).
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from typing import IO

import av
import httpx
from django.conf import settings
from django.core.files import File
from django.core.files.base import ContentFile
from django.db.models import FileField
from django_tasks import task

from generations import media
from generations.actions import transitions
from generations.failures import FailureReason
from generations.lifecycle import followups
from generations.lifecycle.scheduling import COPY_PRIORITY, enqueue_later, retry_delay
from generations.models import Generation
from generations.operations import Operation
from generations.replicate.predictions import ReplicateStatus
from wan_pwa.log_context import names_generation

logger = logging.getLogger(__name__)

DOWNLOAD_TIMEOUT = httpx.Timeout(30.0, connect=10.0)
CHUNK_BYTES = 1024 * 1024


class CopyError(Exception):
    """The video could not be copied; `permanent` says whether trying again can help."""

    def __init__(self, message: str, *, permanent: bool) -> None:
        super().__init__(message)
        self.permanent = permanent


def download(url: str, destination: IO[bytes], *, max_bytes: int) -> int:
    """Streams the URL into the file; returns the number of bytes (raises CopyError)."""
    try:
        with httpx.stream("GET", url, timeout=DOWNLOAD_TIMEOUT, follow_redirects=True) as response:
            if response.status_code in (404, 410):
                raise CopyError("Replicate no longer has the video.", permanent=True)
            if response.status_code == 429 or response.status_code >= 500:
                raise CopyError(f"The video host answered {response.status_code}.", permanent=False)
            if response.status_code != 200:
                raise CopyError(
                    f"The video host refused the download ({response.status_code}).",
                    permanent=True,
                )
            declared = int(response.headers.get("Content-Length") or 0)
            size = 0
            for chunk in response.iter_bytes(CHUNK_BYTES):
                size += len(chunk)
                if max(size, declared) > max_bytes:
                    raise CopyError(
                        f"The video is larger than {max_bytes // (1024 * 1024)} MB.",
                        permanent=True,
                    )
                destination.write(chunk)
    except (httpx.HTTPError, ValueError) as error:
        raise CopyError(f"The video could not be downloaded ({error}).", permanent=False) from None
    destination.flush()
    return size


def _store(field: FileField, filename: str, content: File) -> str:
    return field.storage.save(field.generate_filename(None, filename), content)


@task(priority=COPY_PRIORITY)
@names_generation(position=0)
def copy_output(generation_id: int, attempt: int = 1) -> None:
    """Copies a succeeded prediction's video into our storage and makes its poster.

    Idempotent: it does nothing once the generation has ended, and store_output keeps only the
    first copy (a later one's files are deleted)."""
    copy(generation_id, attempt)


def copy(generation_id: int, attempt: int) -> None:
    """The copy task's work: store the video and poster, then mark the generation succeeded.
    Failures that retrying cannot fix fail (and refund) the generation; others are retried."""
    generation = Generation.objects.get(pk=generation_id)
    if generation.is_terminal or generation.replicate_status != ReplicateStatus.SUCCEEDED:
        return
    try:
        with (
            tempfile.NamedTemporaryFile(suffix=".mp4") as video,
            tempfile.TemporaryDirectory(prefix="output-") as scratch,
        ):
            download(generation.output_url, video, max_bytes=settings.OUTPUT_MAX_BYTES)
            made = video.name
            try:
                poster = media.poster_frame(video.name)
                if generation.operation == Operation.EXTEND:
                    made = _joined(generation, video.name, scratch)
                    poster = media.poster_frame(made)  # the joined video's, the source's start
            except media.NotPlayable as error:
                raise CopyError(str(error), permanent=True) from None
            with open(media.playable_copy(made, scratch, generation_id), "rb") as playable:
                video_name = _store(Generation.video.field, "video.mp4", File(playable))
            poster_name = _store(Generation.poster.field, "poster.jpg", ContentFile(poster))
    except CopyError as error:
        if error.permanent or attempt >= settings.OUTPUT_COPY_MAX_ATTEMPTS:
            followups.run(
                transitions.mark_failed,
                generation_id,
                FailureReason.OUTPUT_NOT_SAVED,
                str(error),
            )
            return
        delay = retry_delay(
            attempt,
            base=settings.OUTPUT_COPY_RETRY_DELAY,
            cap=settings.WATCHDOG_MAX_DELAY,
        )
        logger.info("generation %s: %s Copying again in %.0f s.", generation_id, error, delay)
        enqueue_later(copy_output, delay, generation_id, attempt + 1)
        return
    store_output(generation_id, video_name=video_name, poster_name=poster_name)


def _joined(generation: Generation, addition: str, scratch: str) -> str:
    """An extension's video: its source (the take's own copy) then the new clip, in one MP4 in
    the `scratch` folder. CopyError (permanent) when they cannot be joined."""
    if not generation.input_video:
        raise CopyError("The source video to join is gone.", permanent=True)
    source = os.path.join(scratch, "source.mp4")
    joined = os.path.join(scratch, "joined.mp4")
    try:
        with generation.input_video.open("rb") as stored, open(source, "wb") as copy:
            shutil.copyfileobj(stored, copy, CHUNK_BYTES)
    except OSError as error:  # the storage: reading again may work
        raise CopyError(f"The source video could not be read ({error}).", permanent=False) from None
    try:
        reencoded = media.join(source, addition, joined)
    except (av.FFmpegError, media.NotPlayable) as error:
        raise CopyError(
            f"The new clip could not be joined to its source ({error}).", permanent=True
        ) from None
    logger.info(
        "generation %s: joined the new clip after its source (%s)",
        generation.pk,
        "re-encoded" if reencoded else "packets copied",
    )
    return joined


def store_output(generation_id: int, *, video_name: str, poster_name: str) -> bool:
    """The copy's last step (see the action), with the user's message scheduled in its
    transaction; False when the files were not kept."""
    return followups.run(
        transitions.store_output, generation_id, video_name=video_name, poster_name=poster_name
    ).stored
