"""Suspending and reactivating an account: the account's side of it.

A suspended user cannot log in (Django's backend refuses inactive users, and their sessions stop
resolving), cannot use an API key (wan_pwa.api.authentication) and cannot start a generation
(the submission re-reads the flag under its lock). Canceling what they have in flight is the
generations app's part: generations.suspension.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from wan_pwa.accounts.models import User
from wan_pwa.errors import DomainError

SUSPENDED_MESSAGE = "This account is suspended. Contact support if you think this is a mistake."


class AccountSuspended(DomainError):
    code = "account_suspended"
    status = 403

    def __init__(self) -> None:
        super().__init__(SUSPENDED_MESSAGE)


class SuspensionError(DomainError):
    code = "suspension_refused"


def mark_suspended(user: User, *, by: User, reason: str) -> bool:
    """Marks the account suspended; False when it already was (the first reason stays).

    Its own short transaction on the user row alone: a submission waiting on the same row sees
    the flag as soon as this commits (see credits.suspension.lock_balance_of_active_user).
    """
    if user.pk == by.pk:
        raise SuspensionError("You cannot suspend your own account.")
    if not reason.strip():
        raise SuspensionError("Say why the account is suspended.")
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        if locked.is_suspended:
            return False
        locked.is_active = False
        locked.suspended_at = timezone.now()
        locked.suspended_by = by
        locked.suspension_reason = reason.strip()
        locked.save(
            update_fields=["is_active", "suspended_at", "suspended_by", "suspension_reason"]
        )
    user.refresh_from_db()
    return True


def reactivate_user(user: User) -> bool:
    """Lifts a suspension (or a plain deactivation); False when the account was active, or
    deleted (for good)."""
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        if locked.is_active or locked.is_deleted:
            return False
        locked.is_active = True
        locked.suspended_at = None
        locked.suspended_by = None
        locked.suspension_reason = ""
        locked.save(
            update_fields=["is_active", "suspended_at", "suspended_by", "suspension_reason"]
        )
    user.refresh_from_db()
    return True
