"""What wan_pwa/background/db_internals.py relies on in django-tasks-db beyond its public API.

When one of these fails after an upgrade, the library changed something our worker hooks, our
command or our task give-back depend on: adapt db_internals.py (and only it) before upgrading.
"""

from __future__ import annotations

import inspect
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from uuid import UUID

import pytest
from django.db import models
from django_tasks import TaskResultStatus
from django_tasks_db.management.commands import db_worker
from django_tasks_db.models import DBTaskResult

from tests.wan_pwa.worker_tasks import note
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


class RecordingWorker(db_internals.Worker):
    """The hooks' view of a real batch run of the library's loop."""

    def __init__(self) -> None:
        super().__init__(
            queue_names=["default"],
            interval=0,
            batch=True,
            backend_name="default",
            startup_delay=False,
            max_tasks=None,
            worker_id="probe",
            excluded_queue_names=[],
        )
        self.events: list[tuple[str, object]] = []

    @contextmanager
    def around_worker(self) -> Iterator[None]:
        self.events.append(("worker starts", None))
        yield
        self.events.append(("worker ends", None))

    @contextmanager
    def around_task(self, task_id: UUID, worker_ids: list[str]) -> Iterator[None]:
        row = DBTaskResult.objects.get(pk=task_id)
        self.events.append(("claimed", (row.status, worker_ids, threading.current_thread())))
        yield
        row.refresh_from_db()
        self.events.append(("recorded", row.status))


@pytest.mark.django_db(transaction=True)
def test_the_loop_claims_then_runs_each_task_in_the_calling_thread_inside_our_hooks():
    queued = note.enqueue("hello")
    worker = RecordingWorker()
    worker.run()
    assert worker.events == [
        ("worker starts", None),
        # claim() appended our id before run_task, and the task runs in this (main) thread,
        # where SIGALRM can interrupt it.
        ("claimed", ("RUNNING", ["probe"], threading.main_thread())),
        ("recorded", "SUCCESSFUL"),  # run_task returns once the outcome is saved
        ("worker ends", None),
    ]
    assert DBTaskResult.objects.get(pk=queued.id).return_value == "hello"
