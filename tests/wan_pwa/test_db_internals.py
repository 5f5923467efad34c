"""What wan_pwa/background/db_internals.py relies on in django-tasks-db beyond its public API.

When one of these fails after an upgrade, the library changed something our worker hooks, our
command or our task give-back depend on: adapt db_internals.py (and only it) before upgrading.
"""

from __future__ import annotations

import inspect

import pytest
from django.db import models
from django_tasks import TaskResultStatus
from django_tasks_db.management.commands import db_worker
from django_tasks_db.models import DBTaskResult

from wan_pwa.background import db_internals


def parameters(function: object) -> list[str]:
    return list(inspect.signature(function).parameters)  # type: ignore[arg-type]


def test_the_worker_loop_has_the_constructor_and_methods_we_wrap():
    assert parameters(db_worker.Worker.__init__) == [
        "self",
        "queue_names",
        "interval",
        "batch",
        "backend_name",
        "startup_delay",
        "max_tasks",
        "worker_id",
        "excluded_queue_names",
    ]
    assert parameters(db_worker.Worker.run) == ["self"]
    assert parameters(db_worker.Worker.run_task) == ["self", "db_task_result"]
    assert parameters(db_worker.Worker.configure_signals) == ["self"]
    assert parameters(db_worker.Command.configure_logging) == ["self", "verbosity"]


def test_the_command_parses_the_options_our_command_reads():
    parser = db_worker.Command().create_parser("manage.py", "db_worker")
    options = vars(parser.parse_args([]))
    assert {
        "verbosity",
        "queue_name",
        "exclude_queues",
        "interval",
        "batch",
        "reload",
        "backend_name",
        "startup_delay",
        "max_tasks",
        "worker_id",
    } <= set(options)


@pytest.mark.parametrize(
    ("column", "kind", "null"),
    [
        ("status", models.CharField, False),
        ("started_at", models.DateTimeField, True),
        ("finished_at", models.DateTimeField, True),
        ("exception_class_path", models.TextField, False),
        ("traceback", models.TextField, False),
        ("worker_ids", models.JSONField, False),
    ],
)
def test_the_task_row_has_the_columns_we_write(column: str, kind: type, null: bool):
    assert column in (*db_internals.WRITTEN_COLUMNS, "worker_ids")
    field = DBTaskResult._meta.get_field(column)
    assert isinstance(field, kind)
    assert isinstance(field, models.Field) and field.null is null


def test_the_statuses_we_move_rows_between_exist():
    assert {"READY", "RUNNING", "SUCCESSFUL", "FAILED"} <= set(TaskResultStatus.values)
    assert set(db_internals.WRITTEN_COLUMNS) <= {f.name for f in DBTaskResult._meta.get_fields()}
