"""The API's error shape in the OpenAPI description: its serializer, one example per status, and
the Retry-After header. Operations list their errors with `error_responses(400, 404, ...)`."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse
from rest_framework import serializers

RETRY_AFTER = OpenApiParameter(
    "Retry-After",
    int,
    OpenApiParameter.HEADER,
    description="Seconds to wait before trying again.",
    response=[429, 503],
)


class ErrorObjectSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Stable, machine-readable: branch on this.")
    message = serializers.CharField(help_text="A sentence for people.")
    # DRF's metaclass takes declared fields out of the class, so this does not replace the
    # serializer's `fields` property as the stubs (which cannot express that) assume.
    fields = serializers.DictField(  # type: ignore[assignment]
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="Validation errors by field name.",
    )
    needed = serializers.IntegerField(required=False, help_text="402 only: the credits needed.")
    available = serializers.IntegerField(
        required=False, help_text="402 only: the credits available."
    )


class ErrorSerializer(serializers.Serializer):
    error = ErrorObjectSerializer()


ERROR_EXAMPLES: dict[int, tuple[str, dict[str, Any]]] = {
    400: (
        "The request is not valid; `fields` says which fields and why.",
        {
            "code": "invalid",
            "message": "Some fields are not valid; see `fields`.",
            "fields": {"prompt": ["This field is required."]},
        },
    ),
    401: (
        "No API key or session, or the key is unknown or revoked.",
        {
            "code": "authentication_failed",
            "message": "This API key is not valid or has been revoked.",
        },
    ),
    402: (
        "Not enough credits; nothing was created or charged.",
        {
            "code": "insufficient_credits",
            "message": "This needs 20 credits but only 5 are available.",
            "needed": 20,
            "available": 5,
        },
    ),
    403: (
        "A session request without a valid CSRF token.",
        {"code": "permission_denied", "message": "CSRF Failed: CSRF token missing."},
    ),
    404: (
        "No such object among yours (other users' objects are never revealed).",
        {"code": "not_found", "message": "No Generation matches the given query."},
    ),
    409: (
        "The object's state does not allow this.",
        {"code": "conflict", "message": "Cancel this generation before deleting it."},
    ),
    413: (
        "The request body is too large (see the image size limit in the model catalog).",
        {"code": "payload_too_large", "message": "The request body is larger than 12 MB."},
    ),
    429: (
        "A limit was reached; retry after the `Retry-After` header's seconds.",
        {
            "code": "rate_limited",
            "message": "Too many submissions: at most 10 per minute. Try again in 42 s.",
        },
    ),
    503: (
        "The site's daily budget for free credits is used up (fails closed until midnight for "
        "users who never bought credits).",
        {
            "code": "daily_spend_cap_reached",
            "message": "Today's budget for videos made with free credits is used up. "
            "Submissions with free credits reopen at midnight, or buy credits to go on now; "
            "nothing was charged.",
        },
    ),
}


def error_responses(*status_codes: int) -> dict[int, OpenApiResponse]:
    """OpenAPI responses for the given error statuses, each with the shared shape and an example."""
    responses = {}
    for status_code in status_codes:
        description, example = ERROR_EXAMPLES[status_code]
        responses[status_code] = OpenApiResponse(
            ErrorSerializer,
            description=description,
            examples=[
                OpenApiExample(
                    example["code"], value={"error": example}, status_codes=[status_code]
                )
            ],
        )
    return responses
