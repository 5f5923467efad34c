"""What we keep of an uploaded file: the bytes we wrote anew from what we decoded, and the
extension of their format (generations/images.py, generations/audio.py)."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.files.base import ContentFile


@dataclass(frozen=True)
class CleanUpload:
    file: ContentFile
    extension: str  # ".jpg", ".wav", ...
    seconds: float | None = None  # an audio track's decoded length
