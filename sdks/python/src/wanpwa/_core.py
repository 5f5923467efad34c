"""The one request core shared by the sync and the async client, written without I/O.

An operation is a generator: it yields what it needs done (`Send` an HTTP request, `Sleep`) and is
sent back the outcome (an `httpx.Response`, or the `httpx.TransportError` that prevented one).
Retries, backoff, idempotency keys, error mapping, polling and pagination live here once; the
clients (`_client.py`) only run operations, with `httpx.Client` and `time.sleep` or with
`httpx.AsyncClient` and `asyncio.sleep`.
"""

from __future__ import annotations

import json as jsonlib
import os
import random
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import IO, Any, Generic, TypeVar
from urllib.parse import parse_qsl, urlsplit

import httpx

from wanpwa._version import __version__
from wanpwa.errors import APIConnectionError, APITimeoutError, error_for, retry_after_seconds

T = TypeVar("T")

RETRYABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
DEFAULT_BASE_URL = "http://127.0.0.1:8000"
DEFAULT_TIMEOUT = 60.0
DEFAULT_MAX_RETRIES = 3
BACKOFF_BASE = 0.5  # seconds before the first retry, doubled for each next one
BACKOFF_CAP = 8.0
RETRY_AFTER_CAP = 60.0


@dataclass(frozen=True)
class Send:
    """Send `request`; a successful answer's body is streamed into `sink` when one is given."""

    request: httpx.Request
    sink: IO[bytes] | None = None
    follow_redirects: bool = False


@dataclass(frozen=True)
class Sleep:
    seconds: float


Effect = Send | Sleep
Outcome = httpx.Response | httpx.TransportError | None
Op = Generator[Effect, Outcome, T]


@dataclass(frozen=True)
class Listing(Generic[T]):
    """A paginated list: its first request's path and query, and how to read one item."""

    path: str
    params: dict[str, Any]
    parse: Callable[[dict[str, Any]], T]


@dataclass
class Page(Generic[T]):
    items: list[T]
    next_params: dict[str, Any] | None = field(default=None)


class Core:
    """The configuration every request shares, and the operations built on it."""

    def __init__(
        self,
        *,
        api_key: str | None,
        base_url: str | None,
        timeout: float,
        max_retries: int,
    ) -> None:
        self.api_key = api_key if api_key is not None else os.environ.get("WANPWA_API_KEY")
        base = base_url or os.environ.get("WANPWA_BASE_URL") or DEFAULT_BASE_URL
        self.base_url = base.rstrip("/")
        self.timeout = timeout
        self.max_retries = max_retries

    # requests

    def build(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        data: dict[str, Any] | None = None,
        files: dict[str, tuple[str, bytes, str]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Request:
        """The request, built once: its retries send the very same bytes and headers."""
        all_headers = {"Accept": "application/json", "User-Agent": f"wanpwa-python/{__version__}"}
        if self.api_key:
            all_headers["Authorization"] = f"Bearer {self.api_key}"
        all_headers.update(headers or {})
        content = None
        if json is not None:
            content = jsonlib.dumps(json).encode()
            all_headers["Content-Type"] = "application/json"
        return httpx.Request(
            method,
            self.base_url + path,
            params=_query(params),
            content=content,
            data=data,
            files=files,
            headers=all_headers,
            extensions={"timeout": httpx.Timeout(self.timeout).as_dict()},
        )

    def send(
        self, request: httpx.Request, *, sink: IO[bytes] | None = None, follow_redirects=False
    ) -> Op[httpx.Response]:
        """Sends the request, retrying connection errors and 408, 429 and 5xx answers up to
        `max_retries` times (after Retry-After when the answer gives one, else a jittered
        exponential backoff); raises the typed error of the last answer."""
        attempt = 0
        while True:
            outcome = yield Send(request, sink, follow_redirects)
            retries_left = attempt < self.max_retries
            if isinstance(outcome, httpx.TransportError):
                if not retries_left:
                    if isinstance(outcome, httpx.TimeoutException):
                        raise APITimeoutError(f"The API did not answer in time: {outcome}")
                    raise APIConnectionError(f"The API could not be reached: {outcome}")
                delay = backoff(attempt)
            else:
                assert isinstance(outcome, httpx.Response)
                if outcome.is_success or outcome.is_redirect:
                    return outcome
                if not (retries_left and outcome.status_code in RETRYABLE_STATUSES):
                    raise error_for(outcome)
                waited = retry_after_seconds(outcome)
                delay = backoff(attempt) if waited is None else min(waited, RETRY_AFTER_CAP)
            if sink is not None:  # a broken download starts again from its first byte
                sink.seek(0)
                sink.truncate()
            yield Sleep(delay)
            attempt += 1

    def call(
        self,
        method: str,
        path: str,
        parse: Callable[[Any], T],
        **request: Any,
    ) -> Op[T]:
        """One API call, its JSON answer read by `parse`."""
        response = yield from self.send(self.build(method, path, **request))
        return parse(response.json() if response.content else None)

    def page(self, listing: Listing[T], params: dict[str, Any]) -> Op[Page[T]]:
        """One page of a list: a cursor-paginated `{"next", "results"}` object or a plain
        array (a list the API does not paginate)."""
        body = yield from self.call("GET", listing.path, lambda body: body, params=params)
        if isinstance(body, list):
            return Page([listing.parse(item) for item in body])
        next_params = None
        if body.get("next"):
            # The query of the `next` link (its cursor), asked of our own base URL: behind a
            # proxy, the host the server put in the link may not be ours.
            next_params = dict(parse_qsl(urlsplit(body["next"]).query))
        return Page([listing.parse(item) for item in body["results"]], next_params)


def backoff(attempt: int) -> float:
    """Exponential (0.5 s, 1 s, 2 s... capped at 8 s), with jitter so clients refused at the
    same moment do not all come back at the same moment."""
    return min(BACKOFF_CAP, BACKOFF_BASE * 2**attempt) * random.uniform(0.5, 1.0)


def _query(params: dict[str, Any] | None) -> dict[str, str]:
    """The query string's values as the API reads them (booleans as true/false); None left out."""
    return {name: form_value(value) for name, value in (params or {}).items() if value is not None}


def form_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | dict):
        return jsonlib.dumps(value)
    return str(value)
