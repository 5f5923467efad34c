"""Structured logs: LOG_FORMAT=json gives one JSON object per line, with the request id, the
user id and the generation id where they are known; the default stays text."""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
from collections.abc import Iterator

import pytest
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory
from django.urls import resolve
from django_tasks.signals import task_finished, task_started

from generations.lifecycle.submission import submit_prediction
from generations.notifications.delivery import send_notifications
from wan_pwa.log_context import (
    JsonFormatter,
    LogContextFilter,
    RequestLogContextMiddleware,
    names_generation,
)

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
    @names_generation(kwarg="pk")
    def view(request: HttpRequest, pk: int) -> HttpResponse:
        logger.info("looking at generation %s", pk)
        return HttpResponse()

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


@pytest.mark.parametrize("forged", ['x"\n{"level": "FAKE"}', "a" * 65, "id with spaces", "é"])
def test_a_request_id_that_could_forge_a_line_is_replaced(client, lines, forged):
    response = client.get("/healthz", headers={"X-Request-ID": forged})
    assert re.fullmatch(r"req_[A-Za-z0-9_-]{22}", response["X-Request-ID"])


def test_task_lines_carry_the_generation_id(lines):
    result = submit_prediction.enqueue(7)
    task_started.send(sender=None, task_result=result)
    logger.warning("submitting")
    task_finished.send(sender=None, task_result=result)
    logger.warning("idle")
    assert lines[0]["generation_id"] == 7
    assert lines[0]["task"].endswith("submit_prediction")
    assert "generation_id" not in lines[1]


def test_a_task_about_a_user_does_not_pass_its_id_off_as_a_generations(lines):
    result = send_notifications.enqueue(7)  # a user's id
    task_started.send(sender=None, task_result=result)
    logger.warning("notifying")
    task_finished.send(sender=None, task_result=result)
    assert lines[0]["task"].endswith("send_notifications")
    assert "generation_id" not in lines[0]


@pytest.mark.parametrize(
    ("path", "generation_id"),
    [
        ("/generations/5/", 5),
        ("/generations/5/cancel/", 5),
        ("/generations/5/files/video", 5),
        ("/api/v1/generations/5/", 5),
        ("/api/v1/generations/5/retry/", 5),
        ("/api/webhooks/replicate?generation=5", 5),
        ("/api/webhooks/replicate?generation=5%0A", None),
        ("/history/", None),
        ("/api/v1/generations/", None),
        ("/api/webhooks/stripe?generation=5", None),
    ],
)
def test_the_views_about_one_generation_say_where_its_id_is(rf, lines, path, generation_id):
    """The project's own views, as the URL resolver finds them, declare where their generation's
    id is (a URL keyword, the webhook's query string); other views name none."""
    request = rf.get(path)
    match = resolve(request.path_info)

    def handler(request: HttpRequest) -> HttpResponse:  # as Django's: process_view, then the view
        middleware.process_view(request, match.func, match.args, match.kwargs)
        logger.info("in the view")
        return HttpResponse()

    middleware = RequestLogContextMiddleware(handler)
    middleware(request)
    assert lines[0].get("generation_id") == generation_id


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
