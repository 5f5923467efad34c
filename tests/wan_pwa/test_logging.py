"""Structured logs: LOG_FORMAT=json gives one JSON object per line, with the request id, the
user id and the generation id where they are known; the default stays text."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator

import pytest
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory
from django_tasks.signals import task_finished, task_started

from generations.lifecycle.submission import submit_prediction
from wan_pwa.log_context import JsonFormatter, LogContextFilter, RequestLogContextMiddleware

pytestmark = pytest.mark.django_db

logger = logging.getLogger("tests.structured")


class Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(JsonFormatter())
        self.addFilter(LogContextFilter())
        self.lines: list[dict] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(json.loads(self.format(record)))


@pytest.fixture
def lines() -> Iterator[list[dict]]:
    handler = Lines()
    logger.addHandler(handler)
    yield handler.lines
    logger.removeHandler(handler)


def test_request_lines_carry_the_request_user_and_generation_ids(rf: RequestFactory, user, lines):
    def view(request: HttpRequest, pk: int) -> HttpResponse:
        logger.info("looking at generation %s", pk)
        return HttpResponse()

    view.__module__ = "generations.views"  # a generation page, as the URL resolver gives it
    request = rf.get("/generations/42/", headers={"X-Request-ID": "req-abc"})
    request.user = user

    def handler(request: HttpRequest) -> HttpResponse:  # as Django's: process_view, then the view
        middleware.process_view(request, view, (), {"pk": 42})
        return view(request, 42)

    middleware = RequestLogContextMiddleware(handler)
    response = middleware(request)

    assert response["X-Request-ID"] == "req-abc"
    assert lines[0] | {"time": None} == {
        "time": None,
        "level": "INFO",
        "logger": "tests.structured",
        "message": "looking at generation 42",
        "request_id": "req-abc",
        "user_id": user.pk,
        "generation_id": 42,
    }


def test_a_request_id_that_could_forge_a_line_is_replaced(client, lines):
    response = client.get("/healthz", headers={"X-Request-ID": 'x"\n{"level": "FAKE"}'})
    assert len(response["X-Request-ID"]) == 32


def test_task_lines_carry_the_generation_id(lines):
    result = submit_prediction.enqueue(7)
    task_started.send(sender=None, task_result=result)
    logger.warning("submitting")
    task_finished.send(sender=None, task_result=result)
    logger.warning("idle")
    assert lines[0]["generation_id"] == 7
    assert lines[0]["task"].endswith("submit_prediction")
    assert "generation_id" not in lines[1]


SNIPPET = "import logging; logging.getLogger('wan').warning('hello %s', 'there')"


def run_shell(**env: str) -> str:
    result = subprocess.run(  # noqa: S603 (our own manage.py)
        [sys.executable, str(settings.BASE_DIR / "manage.py"), "shell", "-c", SNIPPET],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return result.stderr.strip().splitlines()[-1]


def test_log_format_json_writes_one_object_per_line():
    line = json.loads(run_shell(LOG_FORMAT="json"))
    assert (line["level"], line["logger"], line["message"]) == ("WARNING", "wan", "hello there")


def test_the_default_stays_readable_text():
    assert run_shell().endswith("WARNING wan: hello there")
