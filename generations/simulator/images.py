"""Input images for image-to-video: data URLs, uploaded files and HTTP URLs, loaded with limits."""

from __future__ import annotations

import base64
import binascii
import io
from collections.abc import Callable
from urllib.parse import unquote_to_bytes, urlsplit

import httpx
from PIL import Image, UnidentifiedImageError


class ImageLoadError(ValueError):
    """The input image could not be fetched or decoded; the prediction fails with this message."""


def image_url_problem(url: str) -> str | None:
    """Why `url` cannot be an image input at all, checked when the prediction is created."""
    if url.startswith("data:"):
        try:
            parse_data_url(url)
        except ValueError as error:
            return str(error)
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "image must be a data URL or an http(s) URL"
    return None


def parse_data_url(url: str) -> bytes:
    """The bytes of an RFC 2397 data URL."""
    header, comma, payload = url.removeprefix("data:").partition(",")
    if not comma:
        raise ValueError("image is not a valid data URL")
    if header.endswith(";base64"):
        try:
            data = base64.b64decode(payload, validate=True)
        except (binascii.Error, ValueError):
            raise ValueError("image data URL is not valid base64") from None
    else:
        data = unquote_to_bytes(payload)
    if not data:
        raise ValueError("image data URL is empty")
    return data


def load_image(
    url: str,
    *,
    local_content: Callable[[str], bytes | None],
    max_bytes: int,
    timeout: float = 10.0,
) -> Image.Image:
    """Fetches and decodes the image; `local_content` resolves URLs of files uploaded to us."""
    if url.startswith("data:"):
        data = parse_data_url(url)
    elif (local := local_content(url)) is not None:
        data = local
    else:
        data = _download(url, max_bytes=max_bytes, timeout=timeout)
    if len(data) > max_bytes:
        raise ImageLoadError(f"Input image is larger than {max_bytes} bytes")
    try:
        with Image.open(io.BytesIO(data)) as image:
            return image.convert("RGB")
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as error:
        raise ImageLoadError(f"Input image could not be decoded: {error}") from None


def _download(url: str, *, max_bytes: int, timeout: float) -> bytes:
    # Stream so that a huge file is cut off at the cap instead of filling memory.
    try:
        with httpx.stream("GET", url, timeout=timeout, follow_redirects=True) as response:
            if response.status_code != 200:
                raise ImageLoadError(f"Input image download failed: HTTP {response.status_code}")
            chunks: list[bytes] = []
            size = 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > max_bytes:
                    raise ImageLoadError(f"Input image is larger than {max_bytes} bytes")
                chunks.append(chunk)
    except httpx.HTTPError as error:
        raise ImageLoadError(f"Input image download failed: {error}") from None
    return b"".join(chunks)
