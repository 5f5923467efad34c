"""The generations' part of a user's data: their export sections (accounts.export_archive asks
through the `collecting_data_export` signal) and their erasure when the account is deleted
(accounts.deletion, through `deleting_account`). Connected when GenerationsConfig.ready()
imports this module."""

from __future__ import annotations

import posixpath
from typing import Any

from django.db.models.fields.files import FieldFile
from django.dispatch import receiver

from generations.actions.deletion import erase_generation
from generations.failures import FailureReason
from generations.lifecycle.transitions import cancel_all_in_flight
from generations.models import Generation
from generations.notifications.models import GenerationNotice, PushSubscription
from wan_pwa.accounts.export_archive import ExportSection
from wan_pwa.accounts.models import User
from wan_pwa.accounts.signals import collecting_data_export, deleting_account

# The stored files of a generation, by the name they take in the export.
EXPORTED_FILES = (
    "input_image",
    "input_audio",
    "input_video",
    "input_mask",
    "input_end_image",
    "video",
    "poster",
)


def _files(generation: Generation) -> dict[str, FieldFile]:
    return {name: getattr(generation, name) for name in EXPORTED_FILES if getattr(generation, name)}


def _export_path(generation: Generation, name: str, stored: FieldFile) -> str:
    extension = posixpath.splitext(stored.name or "")[1]
    return f"files/generation-{generation.pk}/{name}{extension}"


def _record(generation: Generation) -> dict[str, Any]:
    return {
        "id": generation.pk,
        "created_at": generation.created_at,
        "kind": generation.kind,
        "model": generation.model_key,
        "resolution": generation.resolution,
        "aspect_ratio": generation.aspect_ratio,
        "prompt": generation.prompt,
        "negative_prompt": generation.negative_prompt,
        "seed": generation.seed,
        "options": generation.options,
        "status": generation.status,
        "error_message": generation.error_message,
        "cost": generation.cost,
        "starred": generation.starred,
        "shared": generation.share_token is not None,
        "feature_consent": generation.feature_consent,
        "featured_at": generation.featured_at,
        "completed_at": generation.completed_at,
        "deleted_at": generation.deleted_at,
        "retried_from": generation.retried_from_id,
        "operation": generation.operation,
        "parent": generation.parent_id,
        "files": {
            name: _export_path(generation, name, stored)
            for name, stored in _files(generation).items()
        },
    }


@receiver(collecting_data_export, dispatch_uid="generations.export_generations")
def export_generations(sender: type[User], user: User, **kwargs: object) -> list[ExportSection]:
    generations = list(Generation.objects.filter(user=user).order_by("created_at", "pk"))
    files = [
        (_export_path(generation, name, stored), stored)
        for generation in generations
        for name, stored in _files(generation).items()
    ]
    devices = [
        {"browser": device.user_agent, "created_at": device.created_at}
        for device in PushSubscription.objects.filter(user=user).order_by("pk")
    ]
    return [
        ExportSection("generations", [_record(g) for g in generations], files),
        ExportSection("push_devices", devices),
    ]


@receiver(deleting_account, dispatch_uid="generations.erase_generations")
def erase_generations(sender: type[User], user: User, **kwargs: object) -> int:
    """Cancels and refunds what is running (the account is closed: nothing new starts), then
    erases every generation and drops the devices and notices. Returns how many were
    canceled."""
    canceled = cancel_all_in_flight(user, reason=FailureReason.ACCOUNT_DELETED)
    for generation_id in Generation.objects.filter(user=user).values_list("pk", flat=True):
        erase_generation(generation_id)
    PushSubscription.objects.filter(user=user).delete()
    GenerationNotice.objects.filter(user=user).delete()
    return canceled
