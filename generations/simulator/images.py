"""Input images for image-to-video: fetched (inputs.py), then decoded."""

from __future__ import annotations

import io
from collections.abc import Callable

from PIL import Image, UnidentifiedImageError

from .inputs import InputLoadError, fetch

# What the prediction runner catches when the input image cannot be used.
ImageLoadError = InputLoadError


def load_image(
    url: str,
    *,
    local_content: Callable[[str], bytes | None],
    max_bytes: int,
    timeout: float = 10.0,
) -> Image.Image:
    """Fetches and decodes the image; `local_content` resolves URLs of files uploaded to us."""
    data = fetch(
        url, name="image", local_content=local_content, max_bytes=max_bytes, timeout=timeout
    )
    try:
        with Image.open(io.BytesIO(data)) as image:
            return image.convert("RGB")
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as error:
        raise ImageLoadError(f"Input image could not be decoded: {error}") from None
