"""The errors the client raises: one class per kind of answer, each carrying what the API said
(status, stable `code`, message, request id, the error body's other members) and the rate-limit
values of the answer's headers."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx


class WanPWAError(Exception):
    """Any error of this package. Those from an API answer have `status` set; the others
    (connection errors, timeouts, webhook verification) leave it None."""

    status: int | None = None
    code: str = ""
    request_id: str | None = None
    details: dict[str, Any]
    rate_limit_limit: int | None = None
    rate_limit_remaining: int | None = None
    rate_limit_reset: int | None = None
    retry_after: float | None = None

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
        self.details = {}


class APIError(WanPWAError):
    """The API answered with an error status (4xx or 5xx)."""

    def __init__(self, response: httpx.Response) -> None:
        error = _error_object(response)
        message = str(error.get("message") or f"HTTP {response.status_code}")
        super().__init__(message)
        self.status = response.status_code
        self.code = str(error.get("code") or "")
        self.request_id = response.headers.get("X-Request-ID") or error.get("request_id")
        # Everything else the error object says: `fields` (400), `needed` and `available` (402),
        # `required_scope` (403), `doc_url`...
        self.details = {k: v for k, v in error.items() if k not in ("code", "message")}
        self.rate_limit_limit = _int_header(response, "RateLimit-Limit")
        self.rate_limit_remaining = _int_header(response, "RateLimit-Remaining")
        self.rate_limit_reset = _int_header(response, "RateLimit-Reset")
        self.retry_after = retry_after_seconds(response)

    @property
    def doc_url(self) -> str | None:
        return self.details.get("doc_url")

    def __str__(self) -> str:
        said = f"{self.status} {self.code}: {self.message}" if self.code else self.message
        return f"{said} (request {self.request_id})" if self.request_id else said


class ValidationError(APIError):
    """400 or 422: the request is not valid; `fields` names the fields at fault."""

    @property
    def fields(self) -> dict[str, list[str]]:
        return self.details.get("fields") or {}


class AuthenticationError(APIError):
    """401: a missing, unknown or revoked API key."""


class InsufficientCreditsError(APIError):
    """402: not enough credits (or the key's monthly cap); nothing was charged."""

    @property
    def needed(self) -> int | None:
        return self.details.get("needed")

    @property
    def available(self) -> int | None:
        return self.details.get("available")


class PermissionDeniedError(APIError):
    """403: for example a key without the scope the operation needs (`required_scope`)."""

    @property
    def required_scope(self) -> str | None:
        return self.details.get("required_scope")


class NotFoundError(APIError):
    """404: no such object among yours."""


class ConflictError(APIError):
    """409: the object's state forbids the operation (cancel a finished job...)."""


class RateLimitError(APIError):
    """429: a limit; `retry_after` says when to try again."""


class ServerError(APIError):
    """5xx: the API could not do it now."""


class APIConnectionError(WanPWAError):
    """The API could not be reached, or the connection broke."""


class APITimeoutError(APIConnectionError):
    """The API did not answer in time."""


class WaitTimeoutError(WanPWAError):
    """`generations.wait` gave up before the generation ended."""


class WebhookVerificationError(WanPWAError):
    """A webhook's signature, timestamp or headers are wrong: do not trust its body."""


_BY_STATUS: dict[int, type[APIError]] = {
    400: ValidationError,
    401: AuthenticationError,
    402: InsufficientCreditsError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: ValidationError,
    429: RateLimitError,
}


def error_for(response: httpx.Response) -> APIError:
    """The exception for an error answer."""
    if response.status_code >= 500:
        return ServerError(response)
    return _BY_STATUS.get(response.status_code, APIError)(response)


def retry_after_seconds(response: httpx.Response) -> float | None:
    """Retry-After as seconds: a number, or an HTTP date from now."""
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _error_object(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    error = body.get("error") if isinstance(body, dict) else None
    return error if isinstance(error, dict) else {}


def _int_header(response: httpx.Response, name: str) -> int | None:
    try:
        return int(response.headers[name])
    except (KeyError, ValueError):
        return None
