"""Background work for generations, run by `manage.py db_worker`."""

from __future__ import annotations

from django_tasks import task


@task()
def submit_prediction(generation_id: int) -> None:
    """Creates the Replicate prediction for a queued generation."""
    from generations.replicate_flow import submit

    submit(generation_id)
