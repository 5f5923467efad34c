"""Structured logs: with LOG_FORMAT=json each line is one JSON object carrying the request id,
the user id and the generation id when they are known, so one request or one generation can be
followed across web processes and workers. The default stays readable text.

The ids travel in context variables: set per request by `RequestLogContextMiddleware`, per task
by the task signals below, and read by `LogContextFilter` on every record. A view or task about
one generation says where its id is with `@names_generation(...)`.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
from collections.abc import Callable, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.utils.functional import empty
from django_tasks.signals import task_finished, task_started

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
current_request: ContextVar[HttpRequest | None] = ContextVar("current_request", default=None)
generation_id: ContextVar[int | None] = ContextVar("generation_id", default=None)
task_name: ContextVar[str | None] = ContextVar("task_name", default=None)

# A request id a proxy sent is kept only when it cannot smuggle anything into a log line.
REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
MAX_ID_DIGITS = 18  # within a bigint: anything longer is not one of our ids

Declared = TypeVar("Declared")


@dataclass(frozen=True)
class GenerationIdSource:
    """Where a view or a task finds the id of the generation it is about."""

    kwarg: str | None = None  # a URL keyword (views) or a keyword argument (tasks)
    query: str | None = None  # a query string parameter (views)
    position: int | None = None  # a positional argument (tasks)

    def find(self, args: Sequence[Any], kwargs: Mapping[str, Any], query: Any = None) -> int | None:
        found: Any = None
        if self.position is not None and len(args) > self.position:
            found = args[self.position]
        elif self.kwarg is not None and self.kwarg in kwargs:
            found = kwargs[self.kwarg]
        elif self.query is not None and query is not None:
            found = query.get(self.query)
        text = str(found) if found is not None else ""
        digits = text.isascii() and text.isdigit() and len(text) <= MAX_ID_DIGITS
        return int(text) if digits else None


def names_generation(
    *, kwarg: str | None = None, query: str | None = None, position: int | None = None
) -> Callable[[Declared], Declared]:
    """Marks a view (function or class) or a task function as being about one generation, whose
    id is in `kwarg`, `query` or argument `position`: its log lines then carry that id."""
    source = GenerationIdSource(kwarg=kwarg, query=query, position=position)

    def declare(view_or_task: Declared) -> Declared:
        view_or_task.names_generation = source  # type: ignore[attr-defined]
        return view_or_task

    return declare


def _source_of(function: Any) -> GenerationIdSource | None:
    """The declaration on a function, or on the class whose `as_view()` made it (Django keeps
    the class in `view_class`, DRF in `cls`)."""
    for holder in (
        function,
        getattr(function, "view_class", None),
        getattr(function, "cls", None),
    ):
        source = getattr(holder, "names_generation", None)
        if isinstance(source, GenerationIdSource):
            return source
    return None


def _user_id(request: HttpRequest | None) -> int | None:
    user = getattr(request, "user", None)
    # Only a user already loaded: logging must never query (it may run in a broken transaction).
    if user is None or getattr(user, "_wrapped", None) is empty:
        return None
    return user.pk if user.is_authenticated else None


class LogContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        record.user_id = _user_id(current_request.get())
        if not hasattr(record, "generation_id"):  # logger.info(..., extra={"generation_id": 1})
            record.generation_id = generation_id.get()
        record.task = task_name.get()
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for field in ("request_id", "user_id", "generation_id", "task"):
            if (value := getattr(record, field, None)) is not None:
                line[field] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


def new_request_id() -> str:
    return "req_" + secrets.token_urlsafe(16)  # 22 URL-safe characters


class RequestLogContextMiddleware:
    """Gives each request an id (the proxy's X-Request-ID when sane, else a new one), answered
    in X-Request-ID, and the generation id when the URL names one."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        sent = request.headers.get("X-Request-ID", "")
        rid = sent if REQUEST_ID.fullmatch(sent) else new_request_id()
        tokens = (request_id.set(rid), current_request.set(request), generation_id.set(None))
        try:
            response = self.get_response(request)
        finally:
            request_id.reset(tokens[0])
            current_request.reset(tokens[1])
            generation_id.reset(tokens[2])
        response["X-Request-ID"] = rid
        return response

    def process_view(
        self, request: HttpRequest, view: Callable[..., Any], args: Any, kwargs: dict[str, Any]
    ) -> None:
        source = _source_of(view)
        if source is not None:
            generation_id.set(source.find(args, kwargs, request.GET))


@receiver(task_started)
def _bind_task(sender: Any, task_result: Any, **kwargs: Any) -> None:
    task_name.set(task_result.task.name)
    source = _source_of(task_result.task.func)
    found = source.find(task_result.args, task_result.kwargs) if source else None
    generation_id.set(found)


@receiver(task_finished)
def _unbind_task(sender: Any, task_result: Any, **kwargs: Any) -> None:
    task_name.set(None)
    generation_id.set(None)
