"""Input files of a prediction (an image, an audio track): data URLs, files uploaded to us and
HTTP URLs, fetched with a size cap."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from urllib.parse import unquote_to_bytes, urlsplit

import httpx


class InputLoadError(ValueError):
    """An input file could not be fetched or decoded; the prediction fails with this message."""


def url_problem(name: str, url: str) -> str | None:
    """Why `url` cannot be the file input `name` at all, checked when the prediction is created."""
    if url.startswith("data:"):
        try:
            parse_data_url(url, name)
        except ValueError as error:
            return str(error)
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"{name} must be a data URL or an http(s) URL"
    return None


def parse_data_url(url: str, name: str) -> bytes:
    """The bytes of an RFC 2397 data URL given as input `name`."""
    header, comma, payload = url.removeprefix("data:").partition(",")
    if not comma:
        raise ValueError(f"{name} is not a valid data URL")
    if header.endswith(";base64"):
        try:
            data = base64.b64decode(payload, validate=True)
        except (binascii.Error, ValueError):
            raise ValueError(f"{name} data URL is not valid base64") from None
    else:
        data = unquote_to_bytes(payload)
    if not data:
        raise ValueError(f"{name} data URL is empty")
    return data


def fetch(
    url: str,
    *,
    name: str,
    local_content: Callable[[str], bytes | None],
    max_bytes: int,
    timeout: float = 10.0,
) -> bytes:
    """The bytes of input `name`; `local_content` resolves URLs of files uploaded to us."""
    if url.startswith("data:"):
        data = parse_data_url(url, name)
    elif (local := local_content(url)) is not None:
        data = local
    else:
        data = _download(url, name=name, max_bytes=max_bytes, timeout=timeout)
    if len(data) > max_bytes:
        raise InputLoadError(f"Input {name} is larger than {max_bytes} bytes")
    return data


def _download(url: str, *, name: str, max_bytes: int, timeout: float) -> bytes:
    # Stream so that a huge file is cut off at the cap instead of filling memory.
    try:
        with httpx.stream("GET", url, timeout=timeout, follow_redirects=True) as response:
            if response.status_code != 200:
                raise InputLoadError(f"Input {name} download failed: HTTP {response.status_code}")
            chunks: list[bytes] = []
            size = 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > max_bytes:
                    raise InputLoadError(f"Input {name} is larger than {max_bytes} bytes")
                chunks.append(chunk)
    except httpx.HTTPError as error:
        raise InputLoadError(f"Input {name} download failed: {error}") from None
    return b"".join(chunks)
