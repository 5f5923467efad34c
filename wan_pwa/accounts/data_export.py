"""Export my data: asking for an export (one in progress per user, one a day), and deleting
exports past their date (a periodic job). The ZIP itself is built by a task (export_archive)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from wan_pwa.accounts import tasks
from wan_pwa.accounts.models import DataExport, User
from wan_pwa.errors import DomainError

EXPORT_INTERVAL = timedelta(days=1)
# An export still pending this long lost its task (a queue that never drained): it is failed,
# so the user may ask again.
STUCK_AFTER = timedelta(hours=6)


class ExportRefused(DomainError):
    code = "export_refused"
    status = 429


def latest_export(user: User) -> DataExport | None:
    return user.data_exports.first()


def check_request_export(user: User) -> DataExport:
    """A new pending export with its task enqueued; ExportRefused while one is being prepared,
    or within a day of the last one (a failed one does not count)."""
    with transaction.atomic():
        # The user's row serializes two requests at once (the constraint would refuse one).
        User.objects.select_for_update(no_key=True).get(pk=user.pk)
        latest = user.data_exports.exclude(status=DataExport.Status.FAILED).first()
        if latest is not None and latest.status == DataExport.Status.PENDING:
            raise ExportRefused(
                "Your data export is being prepared; you will get an e-mail when it is ready."
            )
        if latest is not None and latest.created_at > timezone.now() - EXPORT_INTERVAL:
            next_at = latest.created_at + EXPORT_INTERVAL
            raise ExportRefused(
                "You can export your data once a day; try again after "
                f"{next_at:%Y-%m-%d %H:%M} UTC.",
                retry_after=int((next_at - timezone.now()).total_seconds()),
            )
        export = DataExport.objects.create(user=user)
        tasks.build_data_export.enqueue(export.pk)
    return export


def remove_export(export_id: int, *, status: DataExport.Status) -> bool:
    """Deletes the export's file (once the change commits) and leaves the row, with `status`,
    for the once-a-day rule; False when it had no file or had ended already."""
    with transaction.atomic():
        locked = DataExport.objects.select_for_update().get(pk=export_id)
        if locked.status not in (DataExport.Status.READY, DataExport.Status.PENDING):
            return False
        if locked.file:
            storage, name = locked.file.storage, locked.file.name
            transaction.on_commit(lambda: storage.delete(name))
        locked.file = ""
        locked.status = status
        locked.finished_at = locked.finished_at or timezone.now()
        locked.save(update_fields=["file", "status", "finished_at"])
    return True


def remove_expired_exports(now: datetime | None = None) -> str:
    """The periodic job: deletes exports past their date, and fails those stuck pending."""
    now = now or timezone.now()
    due = DataExport.objects.filter(status=DataExport.Status.READY, expires_at__lte=now)
    removed = sum(
        remove_export(pk, status=DataExport.Status.EXPIRED)
        for pk in due.values_list("pk", flat=True)
    )
    stuck = DataExport.objects.filter(
        status=DataExport.Status.PENDING, created_at__lte=now - STUCK_AFTER
    ).update(status=DataExport.Status.FAILED, finished_at=now)
    return f"{removed} export(s) removed, {stuck} stuck export(s) failed"
