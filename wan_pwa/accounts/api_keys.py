"""API keys: creation, revocation and lookup. The plaintext key exists only in the response that
creates it; the database keeps its SHA-256 hash and a short visible prefix."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Collection
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from wan_pwa.accounts.models import API_KEY_NAME_MAX_LENGTH, ApiKey, Scope, User, all_scopes

KEY_PREFIX = "wan_"
VISIBLE_PREFIX_LENGTH = len(KEY_PREFIX) + 8
MAX_ACTIVE_KEYS_PER_USER = 20
# last_used_at is written at most this often per key, so authentication rarely writes.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def hash_key(raw_key: str) -> str:
    # A plain hash suffices: the key carries 256 random bits, so there is nothing to brute-force,
    # and a deterministic digest lets authentication find the key through a unique index.
    return hashlib.sha256(raw_key.encode()).hexdigest()


def create_api_key(
    user: User,
    name: str,
    *,
    scopes: Collection[str] | None = None,
    monthly_credit_cap: int | None = None,
) -> tuple[ApiKey, str]:
    """A new key for the user with the given scopes (all of them by default) and optional
    monthly credit cap; returns the stored row and the plaintext key (shown once)."""
    chosen = all_scopes() if scopes is None else _valid_scopes(scopes)
    if monthly_credit_cap is not None and monthly_credit_cap < 1:
        raise ValidationError(
            {"monthly_credit_cap": ["The cap must be at least 1 credit, or left empty."]}
        )
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": ["Give the key a name, such as the program that uses it."]})
    if len(name) > API_KEY_NAME_MAX_LENGTH:
        raise ValidationError(
            {"name": [f"The name must be at most {API_KEY_NAME_MAX_LENGTH} characters long."]}
        )
    raw_key = KEY_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        # Locking the user's row serializes concurrent creations, so the cap holds.
        get_user_model().objects.select_for_update().filter(pk=user.pk).first()
        if ApiKey.objects.active().filter(user=user).count() >= MAX_ACTIVE_KEYS_PER_USER:
            raise ValidationError(
                {
                    "name": [
                        f"You already have {MAX_ACTIVE_KEYS_PER_USER} keys; "
                        "revoke one you no longer use first."
                    ]
                }
            )
        api_key = ApiKey.objects.create(
            user=user,
            name=name,
            prefix=raw_key[:VISIBLE_PREFIX_LENGTH],
            key_hash=hash_key(raw_key),
            scopes=chosen,
            monthly_credit_cap=monthly_credit_cap,
        )
    return api_key, raw_key


def _valid_scopes(scopes: Collection[str]) -> list[str]:
    unknown = set(scopes) - set(Scope.values)
    if unknown:
        raise ValidationError({"scopes": [f"Unknown scope: {', '.join(sorted(unknown))}."]})
    if not scopes:
        raise ValidationError({"scopes": ["Choose at least one thing the key may do."]})
    return [scope for scope in Scope.values if scope in scopes]  # in a stable order


def revoke_api_key(api_key: ApiKey) -> ApiKey:
    """Refused by authentication from now on; revoking twice changes nothing."""
    ApiKey.objects.filter(pk=api_key.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    api_key.refresh_from_db(fields=["revoked_at"])
    return api_key


def find_active_key(raw_key: str) -> ApiKey | None:
    """The active key (with its user) matching a presented key, or None."""
    if not raw_key.startswith(KEY_PREFIX):
        return None
    return ApiKey.objects.active().select_related("user").filter(key_hash=hash_key(raw_key)).first()


def record_use(api_key: ApiKey) -> None:
    """Updates last_used_at when it is older than the resolution: one conditional UPDATE at most
    once a minute per key, nothing on the other requests."""
    now = timezone.now()
    if api_key.last_used_at is not None and now - api_key.last_used_at < LAST_USED_RESOLUTION:
        return
    ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
    api_key.last_used_at = now
