"""The accounts' task: building a data export (a thin entry point, see export_archive)."""

from __future__ import annotations

from django_tasks import task

from wan_pwa.accounts import export_archive

# Below every generation task: an export may wait for a user's video, never the other way round.
EXPORT_PRIORITY = -20


@task(priority=EXPORT_PRIORITY)
def build_data_export(export_id: int) -> str:
    return export_archive.build_data_export(export_id)
