"""Deleting a generation, and the storage retention that removes its files on a schedule
(generations/retention.py decides when, these write it). The rows stay: the credit ledger keeps
pointing at what was charged."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import models, transaction
from django.db.models import ExpressionWrapper, F, Value
from django.db.models.fields.files import FieldFile
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from generations.actions.errors import CannotDelete
from generations.actions.sharing import unshare
from generations.actions.transitions import lock_generation
from generations.models import Generation, Status


def delete_generation(generation: Generation) -> None:
    """Hides the generation and removes its stored files once the change is committed.

    The row stays so the credit ledger keeps pointing at what was charged. An in-flight
    generation must be canceled first, so its refund cannot be lost.
    """
    with transaction.atomic():
        locked = lock_generation(generation.pk)
        if locked.deleted_at is not None:
            return
        if not locked.can_delete:
            raise CannotDelete("Cancel this generation before deleting it.")
        locked.save(update_fields=[*_deleted(locked), "updated_at"])
    generation.refresh_from_db()


def _deleted(generation: Generation) -> list[str]:
    """Marks the locked generation deleted: its stored files removed once the change commits,
    unshared and unstarred; returns the fields to save."""
    stored_files = [
        "video",
        "poster",
        "input_image",
        "input_audio",
        "input_video",
        "input_mask",
        "input_end_image",
    ]
    for name in stored_files:
        _delete_on_commit(getattr(generation, name))
        setattr(generation, name, "")
    generation.deleted_at = generation.deleted_at or timezone.now()
    generation.starred = False
    return [*stored_files, "deleted_at", *unshare(generation), "starred"]


def erase_generation(generation_id: int) -> None:
    """Deletes the generation as delete_generation does, and blanks what its owner wrote (the
    account is being deleted): the row keeps only what the books need (model, cost, status,
    times). Idempotent. One whose finished video is still being saved is erased too; its
    video is discarded when it arrives (store_output)."""
    with transaction.atomic():
        locked = lock_generation(generation_id)
        deleted = _deleted(locked)
        locked.prompt = locked.negative_prompt = locked.failure_detail = locked.output_url = ""
        locked.options = {}
        locked.seed = locked.idempotency_key = None
        locked.feature_consent = False
        locked.save(
            update_fields=[
                *deleted,
                "prompt",
                "negative_prompt",
                "failure_detail",
                "output_url",
                "options",
                "seed",
                "idempotency_key",
                "feature_consent",
                "updated_at",
            ]
        )


# Storage retention. A file's expiry date is set (and shown to its owner) before the file is
# deleted, never on the same pass.

# The files each retained kind takes with it: a video goes with its poster.
RETAINED_FILES = {
    "input_image": ("input_image", "input_end_image"),
    "input_audio": ("input_audio",),
    "input_video": ("input_video", "input_mask"),
    "video": ("video", "poster"),
}


def _retained(kind: str) -> models.QuerySet[Generation]:
    """Ended, not deleted generations that still have the file."""
    return Generation.objects.filter(
        status__in=[Status.SUCCEEDED, Status.FAILED, Status.CANCELED], deleted_at__isnull=True
    ).exclude(**{kind: ""})


def schedule_file_expiry(kind: str, retention: timedelta, earliest: datetime) -> int:
    """Dates the deletion of `kind` (a key of RETAINED_FILES) for generations that have none:
    `retention` after the generation ended, but not before `earliest` (the owner's notice).
    Returns how many were dated."""
    ended_at = Coalesce(F("completed_at"), F("updated_at"))
    expires = ExpressionWrapper(ended_at + Value(retention), output_field=models.DateTimeField())
    undated = _retained(kind).filter(**{f"{kind}_expires_at__isnull": True})
    return undated.update(**{f"{kind}_expires_at": Greatest(expires, Value(earliest))})


def keep_files(kind: str) -> int:
    """Retention turned off: files still stored lose their expiry date; returns how many."""
    dated = _retained(kind).filter(**{f"{kind}_expires_at__isnull": False})
    return dated.update(**{f"{kind}_expires_at": None})


def remove_expired_files(kind: str, now: datetime) -> int:
    """Deletes `kind` of every generation whose expiry date has passed; the row stays (with the
    date, which the pages show). Returns how many generations lost their file."""
    due = _retained(kind).filter(**{f"{kind}_expires_at__lte": now})
    removed = 0
    for generation_id in due.values_list("pk", flat=True):
        with transaction.atomic():
            locked = lock_generation(generation_id)
            expires_at = getattr(locked, f"{kind}_expires_at")
            if not getattr(locked, kind) or expires_at is None or expires_at > now:
                continue  # kept or deleted meanwhile
            for name in RETAINED_FILES[kind]:
                _delete_on_commit(getattr(locked, name))
                setattr(locked, name, "")
            fields = [*RETAINED_FILES[kind], "updated_at"]
            if kind == "video":  # nothing left to share
                fields += unshare(locked)
            locked.save(update_fields=fields)
            removed += 1
    return removed


def _delete_on_commit(stored: FieldFile) -> None:
    storage, name = stored.storage, stored.name
    if name:
        transaction.on_commit(lambda: storage.delete(name))
