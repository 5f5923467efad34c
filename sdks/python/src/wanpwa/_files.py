"""Files sent with a generation (an image, an end image, an audio track, a source video, a
mask): a path, bytes or an open binary file, read once into a multipart part so that a retry
sends the same bytes."""

from __future__ import annotations

import mimetypes
import os
from pathlib import Path
from typing import IO

FileInput = str | os.PathLike[str] | bytes | IO[bytes]


def file_part(name: str, value: FileInput) -> tuple[str, bytes, str]:
    """(filename, content, content type) for httpx's `files=`."""
    if isinstance(value, str | os.PathLike):
        path = Path(value)
        filename, content = path.name, path.read_bytes()
    elif isinstance(value, bytes):
        filename, content = name, value
    else:
        filename = Path(str(getattr(value, "name", "") or name)).name
        content = value.read()
    content_type = mimetypes.guess_type(filename)[0] or "application/octet-stream"
    return filename, content, content_type
