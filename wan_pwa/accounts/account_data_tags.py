"""`{% latest_data_export request.user as export %}`: the Your data section queries its own
data, so Settings includes it without preparing a context."""

from __future__ import annotations

from django import template
from django.conf import settings

from wan_pwa.accounts.data_export import latest_export
from wan_pwa.accounts.models import DataExport

register = template.Library()


@register.simple_tag
def latest_data_export(user) -> DataExport | None:
    if not getattr(user, "is_authenticated", False):
        return None
    return latest_export(user)


@register.simple_tag
def data_export_days() -> int:
    return settings.DATA_EXPORT_RETENTION_DAYS
