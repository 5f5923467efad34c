"""One JSON shape for every REST API error:

    {"error": {"code": "...", "message": "...", "request_id": "req_...",
               "doc_url": "<SITE_URL>/api/docs/errors/#<code>", "fields": {"prompt": ["..."]}}}

`request_id` is the answer's X-Request-ID (quote it to support); `doc_url` links the code's
entry on the error page (wan_pwa/api/error_codes.py). `fields` appears for validation errors; a
402 adds `needed` and `available`. Installed as DRF's
EXCEPTION_HANDLER, it also turns our domain errors (any `DomainError`: it carries its code and
status, so no app's exception is named here) into responses. The shape in the OpenAPI description
is in wan_pwa.api.schema.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.urls import reverse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from wan_pwa import log_context
from wan_pwa.errors import DomainError


class ApiError(exceptions.APIException):
    """An error with its own code, message and extra members of the error object."""

    def __init__(
        self,
        message: str,
        *,
        code: str,
        status_code: int,
        extra: dict[str, Any] | None = None,
        wait: int | None = None,
    ) -> None:
        super().__init__(message, code)
        self.status_code = status_code
        self.error_code = code
        self.extra = extra or {}
        self.wait = wait  # DRF's handler turns this into Retry-After


class Conflict(ApiError):
    """The object is in a state that does not allow the operation (e.g. cancel a finished job)."""

    def __init__(self, message: str, code: str = "conflict") -> None:
        super().__init__(message, code=code, status_code=status.HTTP_409_CONFLICT)


def api_exception_handler(exc: Exception, context: dict) -> Response | None:
    exc = _translate(exc)
    response = drf_exception_handler(exc, context)
    if response is None or not isinstance(exc, exceptions.APIException):
        return None  # a bug: Django's 500 handling and logging take over
    response.data = error_envelope(_error_body(exc))
    return response


def error_envelope(body: dict[str, Any]) -> dict[str, Any]:
    """The error object with the request's id and the link to its code's documentation."""
    code = body["code"]
    return {"error": {**body, "request_id": log_context.request_id.get(), "doc_url": doc_url(code)}}


def doc_url(code: str) -> str:
    return f"{settings.SITE_URL.rstrip('/')}{reverse('api:errors')}#{code}"


def _translate(exc: Exception) -> Exception:
    if isinstance(exc, DomainError):
        return ApiError(
            exc.message,
            code=exc.code,
            status_code=exc.status,
            extra=exc.extra(),
            wait=exc.retry_after,
        )
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else exc.messages
        return exceptions.ValidationError(detail)
    if isinstance(exc, Http404):
        return exceptions.NotFound(*exc.args)
    if isinstance(exc, DjangoPermissionDenied):
        return exceptions.PermissionDenied(*exc.args)
    if isinstance(exc, RequestDataTooBig):  # over DATA_UPLOAD_MAX_MEMORY_SIZE
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE // 2**20
        return ApiError(
            f"The request body is larger than {limit} MB.",
            code="payload_too_large",
            status_code=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )
    if isinstance(exc, SuspiciousOperation):  # e.g. too many form fields
        return exceptions.ParseError(str(exc) or "The request could not be read.")
    return exc


def _error_body(exc: exceptions.APIException) -> dict[str, Any]:
    if isinstance(exc, ApiError):
        return {"code": exc.error_code, "message": str(exc.detail), **exc.extra}
    if isinstance(exc, exceptions.ValidationError):
        return _validation_body(exc.detail)
    return {"code": exc.default_code, "message": str(exc.detail)}


def _validation_body(detail: Any) -> dict[str, Any]:
    if not isinstance(detail, dict):
        messages = _messages(detail)
        return {"code": "invalid", "message": " ".join(messages) or "The request is not valid."}
    fields: dict[str, list[str]] = {}
    general: list[str] = []
    for name, errors in _flatten(detail):
        if name in ("non_field_errors", "__all__", ""):
            general.extend(errors)
        else:
            fields[name] = errors
    message = " ".join(general) or "Some fields are not valid; see `fields`."
    body: dict[str, Any] = {"code": "invalid", "message": message}
    if fields:
        body["fields"] = fields
    return body


def _flatten(detail: Any, prefix: str = "") -> list[tuple[str, list[str]]]:
    """Nested serializer errors as ("outer.inner", [messages]) pairs."""
    if isinstance(detail, dict):
        pairs = []
        for name, value in detail.items():
            pairs.extend(_flatten(value, f"{prefix}.{name}" if prefix else str(name)))
        return pairs
    return [(prefix, _messages(detail))]


def _messages(detail: Any) -> list[str]:
    if isinstance(detail, list | tuple):
        return [message for item in detail for message in _messages(item)]
    if isinstance(detail, dict):
        return [message for _, messages in _flatten(detail) for message in messages]
    return [str(detail)]
