"""Validation of input images: decoded for real, never trusted by name or content type."""

from __future__ import annotations

import warnings

from django.core.exceptions import ValidationError
from django.core.files import File
from PIL import Image, UnidentifiedImageError

MAX_IMAGE_BYTES = 10 * 1024 * 1024
MAX_IMAGE_SIZE = f"{MAX_IMAGE_BYTES // 2**20} MB"  # MAX_IMAGE_BYTES for people
MAX_IMAGE_PIXELS = 40_000_000  # well above 4K, far below a decompression bomb
MIN_IMAGE_SIDE = 64
FORMATS = {"JPEG": ".jpg", "PNG": ".png", "WEBP": ".webp"}
ACCEPTED_CONTENT_TYPES = ("image/jpeg", "image/png", "image/webp")
TOO_MANY_PIXELS = (
    f"The image has too many pixels; use one of at most {MAX_IMAGE_PIXELS // 10**6} megapixels."
)


def validate_image(upload: File) -> str:
    """Checks size, decodes the whole image, and returns the extension of its real format.

    Raises ValidationError with a sentence for the user when the file is not an acceptable image.
    """
    if upload.size is not None and upload.size > MAX_IMAGE_BYTES:
        raise ValidationError(
            f"The image is larger than {MAX_IMAGE_SIZE}; choose a smaller one.", code="too_large"
        )
    if not upload.size:
        raise ValidationError("The image file is empty.", code="empty")
    upload.seek(0)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(upload) as image:
                image_format = image.format
                width, height = image.size
                if width * height > MAX_IMAGE_PIXELS:
                    raise ValidationError(TOO_MANY_PIXELS, code="too_many_pixels")
                image.load()  # decodes every pixel: truncated or corrupt files fail here
    except ValidationError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ValidationError(TOO_MANY_PIXELS, code="too_many_pixels") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise ValidationError(
            "This file is not a valid JPEG, PNG or WebP image.", code="invalid_image"
        ) from None
    finally:
        upload.seek(0)
    if image_format not in FORMATS:
        raise ValidationError(
            "Only JPEG, PNG and WebP images are accepted.", code="unsupported_format"
        )
    if min(width, height) < MIN_IMAGE_SIDE:
        raise ValidationError(
            f"The image must be at least {MIN_IMAGE_SIDE} pixels on each side.", code="too_small"
        )
    return FORMATS[image_format]
