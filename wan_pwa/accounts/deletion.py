"""Deleting an account, by its owner (Settings) or by staff (the user admin).

The user row is never deleted: the append-only ledger and the paid orders point at it and keep
their amounts for the books. It is anonymised instead: inactive, `deleted-<id>` as username, no
name, no e-mail, an unusable password. Everything else goes, in this order:

1. The account is closed in a short transaction of its own (inactive, `deleted_at`), so from its
   commit on nobody logs in, no API key works and no submission starts (they re-read the flag
   under their lock), and what follows sees everything that did start.
2. The apps above erase their part (the `deleting_account` signal): running generations are
   canceled and refunded through the usual cancel, files leave the storage, prompts are blanked,
   push devices and notices dropped.
3. Data exports are deleted, API keys deleted (so they answer 401), every session ended, and the
   personal fields erased under the user's row lock.

Each step is idempotent, so running it again (twice by accident, or after a crash) finishes what
an earlier run left and changes nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.db import transaction
from django.utils import timezone

from wan_pwa.accounts.data_export import remove_export
from wan_pwa.accounts.models import ApiKey, DataExport, User
from wan_pwa.accounts.signals import deleting_account
from wan_pwa.errors import DomainError


class DeletionRefused(DomainError):
    code = "deletion_refused"


@dataclass(frozen=True)
class DeletionOutcome:
    newly_deleted: bool
    canceled: int  # generations canceled and refunded
    sessions_ended: int


def deleted_username(user: User) -> str:
    return f"deleted-{user.pk}"


def _close(user: User) -> bool:
    """Step 1; False when the account was closed already."""
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        if locked.deleted_at is not None:
            return False
        locked.is_active = False
        locked.deleted_at = timezone.now()
        locked.save(update_fields=["is_active", "deleted_at"])
    return True


def end_sessions(user: User) -> int:
    """Ends every session of the user in the configured session store, the cached copies
    included (with REDIS_URL the sessions are read from Redis first). Sessions are not indexed
    by user, so this reads the unexpired ones once: fine for something as rare as a deletion."""
    store = import_module(settings.SESSION_ENGINE).SessionStore
    unexpired = store.get_model_class().objects.filter(expire_date__gt=timezone.now())
    ended = 0
    for key, data in unexpired.values_list("session_key", "session_data").iterator():
        if store().decode(data).get(SESSION_KEY) == str(user.pk):
            store(session_key=key).delete()  # the database row and any cached copy
            ended += 1
    return ended


def _erase(user: User) -> None:
    """Step 3's personal fields."""
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        locked.username = deleted_username(locked)
        locked.email = ""
        locked.first_name = ""
        locked.last_name = ""
        locked.set_unusable_password()
        locked.last_login = None
        locked.notify_by_email = False
        locked.notify_by_push = False
        # A deleted staff account keeps no power, should it ever be reactivated by hand.
        locked.is_staff = locked.is_superuser = False
        locked.save(
            update_fields=[
                "username",
                "email",
                "first_name",
                "last_name",
                "password",
                "last_login",
                "notify_by_email",
                "notify_by_push",
                "is_staff",
                "is_superuser",
            ]
        )
        locked.groups.clear()
        locked.user_permissions.clear()
        # allauth's rows: the addresses (so a verified one is free to verify again elsewhere;
        # the sign-up bonus remembers it only as a hash) and the second factors.
        EmailAddress.objects.filter(user=locked).delete()
        Authenticator.objects.filter(user=locked).delete()


def delete_account(user: User, *, by: User | None = None) -> DeletionOutcome:
    """Deletes the account (see the module's docstring). `by` is the staff member doing it, who
    may not delete their own account here (the Settings page is for that)."""
    if by is not None and by.pk == user.pk:
        raise DeletionRefused("Delete your own account from Settings, not from the admin.")
    newly_deleted = _close(user)
    canceled = sum(int(answer or 0) for _, answer in deleting_account.send(sender=User, user=user))
    for export_id in DataExport.objects.filter(user=user).values_list("pk", flat=True):
        remove_export(export_id, status=DataExport.Status.EXPIRED)
    DataExport.objects.filter(user=user).delete()
    ApiKey.objects.filter(user=user).delete()
    sessions_ended = end_sessions(user)
    _erase(user)
    user.refresh_from_db()
    return DeletionOutcome(newly_deleted, canceled, sessions_ended)
