"""Storage lifecycle: how long input images, audio tracks and videos are kept, and orphan files
swept.

Each pass first dates the deletion of files whose generation ended (its retention after the
ending, and at least STORAGE_EXPIRY_NOTICE_DAYS from now: the card and the detail page show the
date from then on), then deletes what is past its date. So nothing a user can see is ever
deleted without notice, even when an operator shortens a retention. Turning a retention off
(0 days) takes the dates off files still stored. The writes are in generations/actions/deletion.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

from django.conf import settings
from django.core.files.storage import Storage
from django.utils import timezone

from generations.actions import deletion
from generations.models import Generation

# Where each kind of file lives in the storage (see the upload_to functions in models.py).
FOLDERS = {
    "inputs": "input_image",
    "audio": "input_audio",
    "sources": "input_video",
    "masks": "input_mask",
    "videos": "video",
    "posters": "poster",
}
# Every file field a generation points at its files by (end images share the inputs folder).
FILE_FIELDS = (*FOLDERS.values(), "input_end_image")


def retention_days() -> dict[str, int]:
    return {
        "input_image": settings.INPUT_IMAGE_RETENTION_DAYS,
        "input_audio": settings.INPUT_AUDIO_RETENTION_DAYS,
        # A source video (and its mask) is an input like an image.
        "input_video": settings.INPUT_IMAGE_RETENTION_DAYS,
        "video": settings.VIDEO_RETENTION_DAYS,
    }


def apply_retention(now: datetime | None = None) -> str:
    """One pass of the storage lifecycle; returns what it did, in words.

    Idempotent: dates are only set where none is, and a file is deleted once its date has
    passed, so a second pass at the same moment finds nothing to do."""
    now = now or timezone.now()
    notice = now + timedelta(days=settings.STORAGE_EXPIRY_NOTICE_DAYS)
    report = []
    for kind, days in retention_days().items():
        if days:
            dated = deletion.schedule_file_expiry(kind, timedelta(days=days), notice)
            removed = deletion.remove_expired_files(kind, now)
            report.append(f"{kind}: {dated} dated, {removed} removed")
        else:
            report.append(f"{kind}: kept ({deletion.keep_files(kind)} undated)")
    swept = sweep_orphans(now)
    report.append(f"{swept} orphan file(s) swept")
    return "; ".join(report)


def storage() -> Storage:
    return Generation.video.field.storage


def stored_files(folder: str) -> Iterator[str]:
    """Names of the files in one of our folders of the storage."""
    try:
        _, names = storage().listdir(folder)
    except FileNotFoundError:  # nothing stored there yet
        return
    for name in names:
        yield f"{folder}/{name}"


def referenced_files() -> set[str]:
    names: set[str] = set()
    for row in Generation.objects.values_list(*FILE_FIELDS):
        names.update(name for name in row if name)
    return names


def orphans(now: datetime) -> list[str]:
    """Stored files no generation points at, older than ORPHAN_FILE_GRACE_HOURS (younger ones
    may belong to a submission or a copy whose transaction has not committed yet)."""
    referenced = referenced_files()
    cutoff = now - timedelta(hours=settings.ORPHAN_FILE_GRACE_HOURS)
    return [
        name
        for folder in FOLDERS
        for name in stored_files(folder)
        if name not in referenced and storage().get_modified_time(name) < cutoff
    ]


def sweep_orphans(now: datetime) -> int:
    found = orphans(now)
    for name in found:
        storage().delete(name)
    return len(found)
