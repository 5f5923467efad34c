"""The one place that talks to Replicate, through the official client.

Every call has timeouts and turns the client's errors into two kinds our tasks act on:
`TransientError` (timeouts, connection errors, 429, 5xx: try again later, honouring Retry-After)
and `PermanentError` (any other 4xx: retrying cannot help). `NotFound` is a permanent error the
callers treat specially (a prediction Replicate no longer knows).

Predictions are read as plain JSON through the client's request method rather than as its typed
`Prediction` model: that model's status list lacks `aborted` (which the OpenAPI description has),
so parsing such a prediction would crash, and it drops fields we want to keep (`data_removed`).
"""

from __future__ import annotations

import base64
import functools
import re
import threading
from collections.abc import Iterator
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import IO, Any

import httpx
import replicate
from django.conf import settings
from django.utils import timezone
from replicate.client import RetryTransport
from replicate.exceptions import ReplicateError

from generations.replicate import predictions

WEBHOOK_EVENTS = ["start", "output", "logs", "completed"]
# Replicate accepts files this small inline as data URLs; larger ones go through its files API.
DATA_URL_MAX_BYTES = 256 * 1024
# Bounds on the client's own retries of GET-like calls (it sleeps in the calling thread).
GET_MAX_ATTEMPTS = 3
GET_MAX_BACKOFF_SECONDS = 10
LIST_MAX_PAGES = 10

Prediction = dict[str, Any]


class GatewayError(Exception):
    """A call to Replicate that did not work, with a sentence an operator or user can read."""


class TransientError(GatewayError):
    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PermanentError(GatewayError):
    pass


class NotFound(PermanentError):
    pass


# The last response seen by this thread: ReplicateError carries no headers, so this is how
# a 429's Retry-After reaches the retry logic.
_last_response = threading.local()


def _remember_response(response: httpx.Response) -> None:
    _last_response.headers = response.headers


@functools.cache
def _client_for(base_url: str, api_token: str, timeout_seconds: float) -> replicate.Client:
    client = replicate.Client(
        api_token=api_token,
        base_url=base_url,
        timeout=httpx.Timeout(timeout_seconds, connect=min(5.0, timeout_seconds)),
        event_hooks={"response": [_remember_response]},
    )
    # The client retries GETs on 429/503/504 up to 10 times, sleeping up to 60 s each time; a
    # worker must not sit that long, and our tasks have their own backoff.
    retrying = client._client._transport
    if not isinstance(retrying, RetryTransport):
        raise TypeError("replicate.Client no longer retries through its RetryTransport.")
    retrying.max_attempts = GET_MAX_ATTEMPTS
    retrying.max_backoff_wait = GET_MAX_BACKOFF_SECONDS
    return client


def client() -> replicate.Client:
    return _client_for(
        settings.REPLICATE_BASE_URL, settings.REPLICATE_API_TOKEN, settings.REPLICATE_TIMEOUT
    )


def _retry_after(headers: httpx.Headers | None, detail: str | None) -> float | None:
    value = headers.get("Retry-After", "").strip() if headers is not None else ""
    if value:
        try:
            return max(0.0, float(value))
        except ValueError:
            try:
                when: datetime = parsedate_to_datetime(value)
                return max(0.0, (when - timezone.now()).total_seconds())
            except (TypeError, ValueError):
                pass
    # Replicate's 429 body says "... resets in ~Ns" when the header is missing.
    if detail and (match := re.search(r"resets in ~?(\d+(?:\.\d+)?)\s*s", detail, re.IGNORECASE)):
        return float(match[1])
    return None


def _call(action: str, function, *args, **kwargs):
    """Runs one client call, translating its failures into our two kinds of error."""
    _last_response.headers = None
    try:
        return function(*args, **kwargs)
    except ReplicateError as error:
        status = error.status or 0
        detail = error.detail or error.title or f"HTTP {status}"
        message = f"Replicate could not {action}: {detail.rstrip('.')}."
        if status == 429 or status >= 500:
            headers = getattr(_last_response, "headers", None)
            raise TransientError(message, retry_after=_retry_after(headers, detail)) from None
        if status == 404:
            raise NotFound(message) from None
        raise PermanentError(message) from None
    except httpx.TimeoutException:
        raise TransientError(f"Replicate did not answer in time to {action}.") from None
    except httpx.HTTPError as error:
        raise TransientError(f"Replicate could not be reached to {action} ({error}).") from None
    except ValueError as error:  # a body that is not JSON
        raise TransientError(
            f"Replicate sent an unreadable answer to {action} ({error})."
        ) from None


def _json(method: str, path: str, **kwargs) -> Any:
    response = client()._request(method, path, **kwargs)
    return response.json()


def create_prediction(
    model: str, model_input: dict[str, Any], webhook: str, *, cancel_after: int
) -> predictions.PredictionUpdate:
    """Starts a prediction of an official model; Replicate answers with it as `starting`.

    Replicate ends it unbilled once `cancel_after` seconds have passed since its creation:
    `aborted` if it never started, `canceled` if it was still running."""
    body = {"input": model_input, "webhook": webhook, "webhook_events_filter": WEBHOOK_EVENTS}
    headers = {"Cancel-After": f"{cancel_after}s"}
    path = f"/v1/models/{model}/predictions"
    answer = _call("start the generation", _json, "POST", path, json=body, headers=headers)
    return _update(answer, "start the generation")


def get_prediction(prediction_id: str) -> predictions.PredictionUpdate:
    action = "report on the generation"
    return _update(_call(action, _json, "GET", f"/v1/predictions/{prediction_id}"), action)


def _update(answer: Any, action: str) -> predictions.PredictionUpdate:
    if not predictions.is_wellformed(answer):
        raise TransientError(f"Replicate answered without a prediction to {action}.")
    return predictions.parse(answer)


def cancel_prediction(prediction_id: str) -> Prediction:
    return _call("cancel the generation", _json, "POST", f"/v1/predictions/{prediction_id}/cancel")


def recent_predictions(created_after: datetime) -> Iterator[Prediction]:
    """Predictions created after the given time, newest first, a bounded number of pages."""
    query = httpx.QueryParams(created_after=created_after.isoformat())
    path: str | None = f"/v1/predictions?{query}"
    for _ in range(LIST_MAX_PAGES):
        if path is None:
            return
        page = _call("list predictions", _json, "GET", path)
        yield from page.get("results") or []
        path = page.get("next")


def file_input(content: IO[bytes], *, filename: str, content_type: str, what: str) -> str:
    """A URL Replicate can read an input file (`what`, in words) from: inline when small, else
    uploaded."""
    data = content.read()
    if len(data) <= DATA_URL_MAX_BYTES:
        return f"data:{content_type};base64,{base64.b64encode(data).decode()}"
    # The client's own files.create sends without any timeout; this keeps ours.
    uploaded = _call(
        f"receive the {what}",
        _json,
        "POST",
        "/v1/files",
        files={"content": (filename, data, content_type)},
    )
    try:
        return uploaded["urls"]["get"]
    except (KeyError, TypeError):
        raise TransientError(f"Replicate stored the {what} but gave no URL for it.") from None


def default_webhook_secret() -> str:
    """The account's webhook signing key (`whsec_...`)."""
    return _call("share its webhook signing key", client().webhooks.default.secret).key


def model_schemas(model: str) -> tuple[str, dict[str, Any]]:
    """The latest version of an official model: its id, and its OpenAPI `components.schemas`
    (`Input` and the schemas it refers to)."""
    action = f"describe the model {model}"
    answer = _call(action, _json, "GET", f"/v1/models/{model}")
    try:
        version = answer["latest_version"]
        schemas = version["openapi_schema"]["components"]["schemas"]
        properties = schemas["Input"]["properties"]
    except (KeyError, TypeError):
        version = schemas = properties = None
    if not isinstance(schemas, dict) or not isinstance(properties, dict):
        raise PermanentError(f"Replicate described {model} without an input schema.")
    return str(version.get("id") or "unknown"), schemas
