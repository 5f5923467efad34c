"""Tasks for the worker tests, imported by the worker processes they start (task paths are
dotted paths under tests/)."""

from __future__ import annotations

import time

from django_tasks import task


@task(priority=10)
def hang(bound_seconds: float) -> str:
    """Blocks like a read without a timeout would, up to a bound so a broken limit cannot hang
    the suite. It swallows the first interruption, as a task with a bare `except:` would."""
    deadline = time.monotonic() + bound_seconds
    swallowed = False
    while time.monotonic() < deadline:
        try:
            time.sleep(0.05)
        except BaseException:
            if swallowed:
                raise
            swallowed = True
    return "never interrupted"


@task()
def note(label: str) -> str:
    return label


@task()
def delete_running_rows() -> str:
    """Deletes the rows of the running tasks, its own included, as emptying the database does."""
    from django_tasks_db.models import DBTaskResult

    DBTaskResult.objects.filter(status="RUNNING").delete()
    return "deleted"


def stuck_job() -> str:
    """A periodic job that never finishes on its own within a test (bounded at 30 s)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        time.sleep(0.05)
    return "never interrupted"
