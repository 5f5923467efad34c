"""/healthz answers without the database; /readyz says 503 when something serving needs is
missing (here: the worker is gone, or the queue stopped moving)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult, get_date_max

from wan_pwa.background.heartbeat import beat
from wan_pwa.background.models import WorkerHeartbeat

pytestmark = pytest.mark.django_db


def test_liveness_answers_without_touching_the_database(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})
    assert "no-cache" in response["Cache-Control"]


def test_ready_with_a_live_worker(client):
    beat("worker-1")
    response = client.get("/readyz")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "cache", "migrations", "worker", "queue"}


def test_not_ready_when_the_worker_is_gone(client):
    beat("worker-1")
    WorkerHeartbeat.objects.update(last_seen=timezone.now() - timedelta(minutes=2))
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["worker"] == {
        "ok": False,
        "error": "no worker seen in the last 60 seconds",
    }


def test_not_ready_when_a_ready_task_waits_too_long(client, settings):
    beat("worker-1")
    task = DBTaskResult.objects.create(
        args_kwargs={"args": [1], "kwargs": {}},
        task_path="generations.tasks.submit_prediction",
        backend_name="default",
        queue_name="default",
        run_after=get_date_max(),
    )
    DBTaskResult.objects.filter(pk=task.pk).update(
        enqueued_at=timezone.now() - timedelta(seconds=settings.READYZ_MAX_TASK_WAIT + 5)
    )
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["queue"]["ok"] is False
