"""Share links, the home page's featured videos, and stars: the owner's (and for featuring,
staff's) marks on a generation."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from generations.actions.errors import CannotFeature
from generations.actions.transitions import lock_generation
from generations.models import Generation, Status, new_share_token


def set_starred(generation: Generation, starred: bool) -> Generation:
    generation.starred = starred
    generation.save(update_fields=["starred", "updated_at"])
    return generation


def enable_sharing(generation: Generation) -> Generation:
    if not generation.share_token:
        generation.share_token = new_share_token()
        generation.save(update_fields=["share_token", "updated_at"])
    return generation


def revoke_sharing(generation: Generation) -> Generation:
    """Ends the link; the video leaves the home page, and a new link asks for consent again."""
    fields = unshare(generation)
    generation.feature_consent = False
    generation.save(update_fields=[*fields, "feature_consent", "updated_at"])
    return generation


def unshare(generation: Generation) -> list[str]:
    """Clears the share link and, with it, any featuring (a database constraint requires it);
    returns the fields for the caller to save."""
    generation.share_token = None
    generation.featured_at = None
    return ["share_token", "featured_at"]


def set_feature_consent(generation: Generation, allowed: bool) -> Generation:
    """The owner's say on the home page's gallery; withdrawing it takes the video off at once.
    CannotFeature when the video is not shared."""
    with transaction.atomic():
        locked = lock_generation(generation.pk)
        if allowed and not locked.share_token:
            raise CannotFeature("Share the video first: only shared videos can be featured.")
        locked.feature_consent = allowed
        if not allowed:
            locked.featured_at = None
        locked.save(update_fields=["feature_consent", "featured_at", "updated_at"])
    generation.refresh_from_db()
    return generation


def feature_generation(generation: Generation) -> Generation:
    """Staff put a video in the home page's gallery: only one its owner shared and allowed.
    CannotFeature otherwise."""
    with transaction.atomic():
        locked = lock_generation(generation.pk)
        if locked.featured_at is None:
            if locked.status != Status.SUCCEEDED or locked.deleted_at or not locked.video:
                raise CannotFeature("Only a finished video can be featured.")
            if not locked.share_token:
                raise CannotFeature("Its owner has not shared it.")
            if not locked.feature_consent:
                raise CannotFeature("Its owner has not allowed featuring it.")
            locked.featured_at = timezone.now()
            locked.save(update_fields=["featured_at", "updated_at"])
    generation.refresh_from_db()
    return generation


def unfeature_generation(generation: Generation) -> Generation:
    generation.featured_at = None
    generation.save(update_fields=["featured_at", "updated_at"])
    return generation
