"""Building a user's data export: the ZIP of JSON files and stored files that the task writes.

Accounts know only their own tables, so the other apps answer the `collecting_data_export`
signal with the sections of what they hold (credits: ledger, orders and buckets; generations: the
generations with their inputs and videos, and the push devices). Never a secret: API keys are
listed by name and dates, never their hashes.
"""

from __future__ import annotations

import json
import logging
import tempfile
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import IO, Any, cast

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.conf import settings
from django.core.files import File
from django.core.mail import send_mail
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models.fields.files import FieldFile
from django.urls import reverse
from django.utils import timezone

from wan_pwa.accounts.models import DataExport, User, data_export_path
from wan_pwa.accounts.signals import collecting_data_export

logger = logging.getLogger(__name__)
CHUNK_SIZE = 256 * 1024


@dataclass(frozen=True)
class ExportSection:
    """One JSON file of the export (`<name>.json`), and the stored files that go with it, each
    under its path in the ZIP."""

    name: str
    data: Any  # anything DjangoJSONEncoder writes
    files: Sequence[tuple[str, FieldFile]] = ()


def account_sections(user: User) -> list[ExportSection]:
    profile = {
        "username": user.username,
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "date_joined": user.date_joined,
        "last_login": user.last_login,
        "notify_by_email": user.notify_by_email,
        "notify_by_push": user.notify_by_push,
    }
    keys = [
        {
            "name": key.name,
            "prefix": key.prefix,
            "scopes": key.scopes,
            "monthly_credit_cap": key.monthly_credit_cap,
            "created_at": key.created_at,
            "last_used_at": key.last_used_at,
            "revoked_at": key.revoked_at,
        }
        for key in user.api_keys.order_by("created_at", "pk")
    ]
    addresses = [
        {"email": address.email, "verified": address.verified, "primary": address.primary}
        for address in EmailAddress.objects.filter(user=user).order_by("pk")
    ]
    # What a second factor is and when it was used, never its secret.
    factors = [
        {
            "type": factor.type,
            "name": str(factor) if factor.type == Authenticator.Type.WEBAUTHN else "",
            "created_at": factor.created_at,
            "last_used_at": factor.last_used_at,
        }
        for factor in Authenticator.objects.filter(user=user).order_by("pk")
    ]
    return [
        ExportSection("profile", {**profile, "email_addresses": addresses}),
        ExportSection("second_factors", factors),
        ExportSection("api_keys", keys),
    ]


def sections_of(user: User) -> list[ExportSection]:
    sections = account_sections(user)
    for _receiver, answer in collecting_data_export.send(sender=User, user=user):
        sections.extend(cast(list[ExportSection], answer))
    return sections


def _copy(stored: FieldFile, archive: zipfile.ZipFile, path: str) -> bool:
    """Streams one stored file into the archive; False when the storage no longer has it."""
    try:
        source = stored.storage.open(stored.name or "", "rb")
    except FileNotFoundError:
        return False
    # Videos and images are compressed already: stored (the archive's default), not deflated.
    with source, archive.open(path, "w") as out:
        while chunk := source.read(CHUNK_SIZE):
            out.write(chunk)
    return True


def write_archive(target: IO[bytes], sections: Iterable[ExportSection]) -> None:
    with zipfile.ZipFile(target, "w") as archive:
        for section in sections:
            text = json.dumps(section.data, cls=DjangoJSONEncoder, indent=2, ensure_ascii=False)
            archive.writestr(f"{section.name}.json", text, compress_type=zipfile.ZIP_DEFLATED)
            for path, stored in section.files:
                if stored.name and not _copy(stored, archive, path):
                    logger.warning("export: %s is missing from the storage", stored.name)


def build_data_export(export_id: int) -> str:
    """Builds a pending export, stores it privately, marks it ready and mails its link.

    Idempotent: an export that is no longer pending (built, failed, expired, or its account
    deleted meanwhile) is left alone, and a ZIP stored for one that stopped being pending is
    removed again."""
    export = DataExport.objects.select_related("user").filter(pk=export_id).first()
    if export is None or export.status != DataExport.Status.PENDING:
        return "nothing to do"
    try:
        with tempfile.TemporaryFile() as spool:
            write_archive(spool, sections_of(export.user))
            size = spool.tell()
            spool.seek(0)
            storage = DataExport.file.field.storage
            name = storage.save(data_export_path(export, ""), File(spool))
    except Exception:
        DataExport.objects.filter(pk=export_id, status=DataExport.Status.PENDING).update(
            status=DataExport.Status.FAILED, finished_at=timezone.now()
        )
        raise
    with transaction.atomic():
        locked = DataExport.objects.select_for_update().filter(pk=export_id).first()
        if locked is None or locked.status != DataExport.Status.PENDING:
            # Expired, failed as stuck, or its account deleted while it was being built.
            transaction.on_commit(lambda: storage.delete(name))
            return f"export #{export_id} ended meanwhile"
        finished_at = timezone.now()
        expires_at = finished_at + timedelta(days=settings.DATA_EXPORT_RETENTION_DAYS)
        locked.file = name
        locked.size = size
        locked.status = DataExport.Status.READY
        locked.finished_at = finished_at
        locked.expires_at = expires_at
        locked.save(update_fields=["file", "size", "status", "finished_at", "expires_at"])
    mail_export_link(locked, export.user, expires_at)
    return f"export #{export_id}: {size} bytes"


def mail_export_link(export: DataExport, user: User, expires_at: datetime) -> None:
    if not user.email:
        return
    link = settings.SITE_URL + reverse("data-export-download", args=[export.pk])
    send_mail(
        "Your Wan PWA data export is ready",
        f"Hello {user.username},\n\n"
        f"the export of your data you asked for is ready. Download it (you will be asked to "
        f"log in) at:\n\n{link}\n\n"
        f"It is kept until {expires_at:%Y-%m-%d %H:%M} UTC, then deleted. It is also "
        f"linked from Settings until then.\n",
        None,
        [user.email],
    )
