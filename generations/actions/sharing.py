"""Share links and stars: the owner's marks on a generation."""

from __future__ import annotations

from generations.models import Generation, new_share_token


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
    generation.share_token = None
    generation.save(update_fields=["share_token", "updated_at"])
    return generation
