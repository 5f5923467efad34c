"""Input images: decoded for real, never trusted by name or content type, and written anew.

What we store and send to the model is the decoded picture encoded again by Pillow in the same
format: upright (the EXIF orientation applied), without EXIF (camera, GPS position), XMP, text
chunks or anything after the image's end, and with fresh checksums. Only the colour profile is
kept, as part of how the pixels look.
"""

from __future__ import annotations

import io
import warnings
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.base import ContentFile
from PIL import Image, ImageOps, JpegImagePlugin, UnidentifiedImageError

from generations.uploads import CleanUpload

MAX_IMAGE_BYTES = 10 * 1024 * 1024
MAX_IMAGE_SIZE = f"{MAX_IMAGE_BYTES // 2**20} MB"  # MAX_IMAGE_BYTES for people
MAX_IMAGE_PIXELS = 40_000_000  # well above 4K, far below a decompression bomb
MIN_IMAGE_SIDE = 64
FORMATS = {"JPEG": ".jpg", "PNG": ".png", "WEBP": ".webp"}
ACCEPTED_CONTENT_TYPES = ("image/jpeg", "image/png", "image/webp")
TOO_MANY_PIXELS = (
    f"The image has too many pixels; use one of at most {MAX_IMAGE_PIXELS // 10**6} megapixels."
)


def clean_image(upload: File) -> CleanUpload:
    """Checks size, decodes the whole image, and returns it written anew in its real format.

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
                if image_format not in FORMATS:
                    raise ValidationError(
                        "Only JPEG, PNG and WebP images are accepted.", code="unsupported_format"
                    )
                if min(width, height) < MIN_IMAGE_SIDE:
                    raise ValidationError(
                        f"The image must be at least {MIN_IMAGE_SIDE} pixels on each side.",
                        code="too_small",
                    )
                data = _written_anew(image, image_format)
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
    extension = FORMATS[image_format]
    return CleanUpload(ContentFile(data, name=f"image{extension}"), extension)


def _written_anew(image: Image.Image, image_format: str) -> bytes:
    """The decoded image, upright, encoded again with nothing but its pixels (and colour
    profile); a JPEG keeps its quantization tables and subsampling, so its pixels barely move,
    a WebP is written lossless, so they do not move at all."""
    upright = ImageOps.exif_transpose(image)
    upright.info = {}  # nothing of the original's metadata may reach the encoder
    options: dict[str, Any] = {}
    if profile := image.info.get("icc_profile"):
        options["icc_profile"] = profile
    if image_format == "JPEG":
        options["qtables"] = image.quantization  # type: ignore[attr-defined]
        if (sampling := JpegImagePlugin.get_sampling(image)) != -1:
            options["subsampling"] = sampling
    elif image_format == "PNG":
        if (transparency := image.info.get("transparency")) is not None:
            options["transparency"] = transparency  # part of the pixels, not metadata
    else:
        options.update(lossless=True, exact=True)
    output = io.BytesIO()
    upright.save(output, image_format, **options)
    return output.getvalue()
