"""The library's worker loop, really run (its own transactions) with our hooks around it: what
wan_pwa/background/db_internals.py relies on in how it claims and runs tasks."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from uuid import UUID

import pytest
from django_tasks_db.models import DBTaskResult

from tests.wan_pwa.worker_tasks import delete_running_rows, note
from wan_pwa.background import db_internals


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


@pytest.mark.django_db(transaction=True)
def test_a_task_whose_row_is_deleted_while_it_runs_does_not_stop_the_worker():
    delete_running_rows.enqueue()
    after = note.enqueue("still working")
    db_internals.Worker(
        queue_names=["default"],
        interval=0,
        batch=True,  # returns once no task is ready, if it did not stop before
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="probe",
        excluded_queue_names=[],
    ).run()
    assert not DBTaskResult.objects.filter(return_value="deleted").exists()
    assert DBTaskResult.objects.get(pk=after.id).return_value == "still working"
