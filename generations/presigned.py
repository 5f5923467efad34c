"""Stored files in object storage reach the browser through a short-lived presigned URL.

The access-checked views answer with a redirect to it instead of streaming the bytes themselves:
the bucket sends the video, so a web process is free again within milliseconds rather than for
the whole download; the bucket answers Range requests (seeking in `<video>`) and, through the
signed `response-content-disposition`, downloads. Every new request still passes the owner or
share-link check first, so a revoked link stops at once; a URL already handed out lives on for
`AWS_QUERYSTRING_EXPIRE` seconds at most (60 by default), and objects are never public.
"""

from __future__ import annotations

from django.db.models.fields.files import FieldFile
from django.http import Http404, HttpResponseRedirect
from storages.backends.s3 import S3Storage


def presigned_redirect(
    stored: FieldFile, *, attachment_name: str = ""
) -> HttpResponseRedirect | None:
    """A redirect to the file's presigned URL (Http404 when the object is missing); None when
    its storage is the local disk, whose files the views stream themselves."""
    storage = stored.storage
    if not isinstance(storage, S3Storage):
        return None
    name = stored.name
    if not name or not storage.exists(name):
        raise Http404("No such file.")
    parameters = (
        {"ResponseContentDisposition": f'attachment; filename="{attachment_name}"'}
        if attachment_name
        else {}
    )
    response = HttpResponseRedirect(storage.url(name, parameters=parameters))
    # The URL expires: a cached redirect would outlive it, and must not outlive a revoked link.
    response["Cache-Control"] = "private, no-store"
    return response
