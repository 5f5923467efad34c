"""Serving stored videos, posters, input images and audio tracks: only to their owner or through
a share link.

Media is never served from a public URL: every file goes through an ownership (or share token)
check here. Videos answer HTTP Range requests so `<video>` can seek, and several videos download
as one ZIP that is streamed while it is written, never held in memory. From object storage, a
checked request is redirected to a short-lived presigned URL instead (see presigned.py).
"""

from __future__ import annotations

import mimetypes
import re
import zipfile
from collections.abc import Iterable, Iterator
from typing import IO

from django.contrib.auth.decorators import login_required
from django.db.models.fields.files import FieldFile
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    StreamingHttpResponse,
)
from django.http.response import HttpResponseBase
from django.views.decorators.http import require_safe

from generations import presigned, selectors
from generations.models import Generation
from wan_pwa.http import AuthenticatedHttpRequest
from wan_pwa.log_context import names_generation

CHUNK_SIZE = 256 * 1024
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
# A take's source video, mask and end image too: the owner's own inputs.
OWNER_FILES = ("video", "poster", "input", "audio", "source", "mask", "end")
SHARED_FILES = ("video", "poster")


def _field(generation: Generation, kind: str) -> FieldFile:
    field = {
        "video": generation.video,
        "poster": generation.poster,
        "input": generation.input_image,
        "audio": generation.input_audio,
        "source": generation.input_video,
        "mask": generation.input_mask,
        "end": generation.input_end_image,
    }
    return field[kind]


def _read(handle: IO[bytes], length: int) -> Iterator[bytes]:
    try:
        while length > 0:
            chunk = handle.read(min(CHUNK_SIZE, length))
            if not chunk:
                break
            length -= len(chunk)
            yield chunk
    finally:
        handle.close()


def _byte_range(header: str, size: int) -> tuple[int, int] | None:
    """The (start, end) of a single `bytes=` range, inclusive; None to send the whole file.

    Raises ValueError for a range that lies outside the file (answered with 416).
    """
    match = _RANGE.match(header.strip())
    if not match or match.groups() == ("", ""):
        return None  # multi-range or malformed: the whole file is a valid answer
    first, last = match.groups()
    if first:
        start = int(first)
        end = min(int(last), size - 1) if last else size - 1
    else:  # a suffix range: the last N bytes
        start = max(size - int(last), 0)
        end = size - 1
    if start >= size or start > end:
        raise ValueError("unsatisfiable range")
    return start, end


def file_response(
    stored: FieldFile,
    range_header: str = "",
    *,
    attachment_name: str = "",
    cache_control: str = "private, max-age=3600",
) -> HttpResponseBase:
    """The stored file, whole or the one byte range a `Range` header asks for; an attachment
    when named. The one way pages and the API send a stored file."""
    name = stored.name
    if not name:  # an empty file field
        raise Http404("No such file.")
    if redirect := presigned.presigned_redirect(stored, attachment_name=attachment_name):
        return redirect
    try:
        size = stored.storage.size(name)
        handle = stored.storage.open(name, "rb")
    except FileNotFoundError:
        raise Http404("No such file.") from None
    content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    try:
        byte_range = _byte_range(range_header, size)
    except ValueError:
        handle.close()
        unsatisfiable = HttpResponse(status=416)
        unsatisfiable["Content-Range"] = f"bytes */{size}"
        return unsatisfiable
    response: HttpResponseBase
    if byte_range is None:
        response = FileResponse(
            handle,
            content_type=content_type,
            as_attachment=bool(attachment_name),
            filename=attachment_name,
        )
    else:
        start, end = byte_range
        handle.seek(start)
        response = StreamingHttpResponse(
            _read(handle, end - start + 1), status=206, content_type=content_type
        )
        response["Content-Range"] = f"bytes {start}-{end}/{size}"
        response["Content-Length"] = str(end - start + 1)
        if attachment_name:
            response["Content-Disposition"] = f'attachment; filename="{attachment_name}"'
    response["Accept-Ranges"] = "bytes"
    # Always private: a shared proxy must never hand one user's video to another.
    response["Cache-Control"] = cache_control
    return response


def download_name(generation: Generation) -> str:
    return f"wan-{generation.pk}.mp4"


@names_generation(kwarg="pk")
@require_safe
@login_required
def generation_file(request: AuthenticatedHttpRequest, pk: int, kind: str) -> HttpResponseBase:
    if kind not in OWNER_FILES:
        raise Http404("No such file.")
    generation = selectors.generation_of(request.user, pk)
    name = download_name(generation) if kind == "video" and "download" in request.GET else ""
    range_header = request.headers.get("Range", "")
    return file_response(_field(generation, kind), range_header, attachment_name=name)


@require_safe
def shared_file(request: HttpRequest, token: str, kind: str) -> HttpResponseBase:
    if kind not in SHARED_FILES:
        raise Http404("No such file.")
    generation = selectors.shared_generation(token)
    # Not kept by browsers: a revoked link must stop playing at once.
    range_header = request.headers.get("Range", "")
    return file_response(_field(generation, kind), range_header, cache_control="private, no-store")


class _Pipe:
    """A write-only file for zipfile whose written bytes are taken out as they come."""

    def __init__(self) -> None:
        self._chunks: list[bytes] = []
        self._written = 0

    def write(self, data: bytes) -> int:
        self._chunks.append(bytes(data))
        self._written += len(data)
        return len(data)

    def tell(self) -> int:
        return self._written

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass

    def take(self) -> bytes:
        data = b"".join(self._chunks)
        self._chunks.clear()
        return data


def zip_stream(generations: Iterable[Generation]) -> Iterator[bytes]:
    """The videos of `generations` as one ZIP, yielded piece by piece while it is written.

    Videos are already compressed, so they are stored, not deflated: no CPU spent for nothing.
    """
    pipe = _Pipe()
    with zipfile.ZipFile(pipe, mode="w", compression=zipfile.ZIP_STORED) as archive:
        for generation in generations:
            if not generation.video:
                continue
            try:
                source = generation.video.storage.open(generation.video.name, "rb")
            except FileNotFoundError:
                continue
            with source, archive.open(download_name(generation), mode="w") as target:
                while chunk := source.read(CHUNK_SIZE):
                    target.write(chunk)
                    if data := pipe.take():
                        yield data
            if data := pipe.take():
                yield data
    if data := pipe.take():  # the central directory, written when the archive closes
        yield data
