"""The API's error shape in the OpenAPI description: its serializer, examples per status, and
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
    request_id = serializers.CharField(
        help_text="This answer's X-Request-ID: quote it when asking for help."
    )
    doc_url = serializers.URLField(help_text="The code's entry on the page of error codes.")
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
    required_scope = serializers.CharField(
        required=False,
        allow_null=True,
        help_text="403 `insufficient_scope` only: the scope the API key lacks.",
    )
    monthly_credit_cap = serializers.IntegerField(
        required=False, help_text="402 `key_credit_cap_reached` only: the key's monthly cap."
    )
    spent_this_month = serializers.IntegerField(
        required=False,
        help_text="402 `key_credit_cap_reached` only: credits spent through the key this month.",
    )


class ErrorSerializer(serializers.Serializer):
    error = ErrorObjectSerializer()


ERROR_EXAMPLES: dict[int, tuple[str, dict[str, Any], *tuple[dict[str, Any], ...]]] = {
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
        "Not enough credits, or the API key's monthly credit cap would be passed; nothing was "
        "created or charged.",
        {
            "code": "insufficient_credits",
            "message": "This needs 20 credits but only 5 are available.",
            "needed": 20,
            "available": 5,
        },
        {
            "code": "key_credit_cap_reached",
            "message": "This API key may spend 100 credits a month and has spent 90 this month; "
            "this needs 20 more. Nothing was charged.",
            "monthly_credit_cap": 100,
            "spent_this_month": 90,
            "needed": 20,
        },
    ),
    403: (
        "The API key lacks the scope this operation needs (`required_scope`), or a session "
        "request came without a valid CSRF token.",
        {
            "code": "insufficient_scope",
            "message": "This API key lacks the `billing` scope.",
            "required_scope": "billing",
        },
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
        description, *examples = ERROR_EXAMPLES[status_code]
        responses[status_code] = OpenApiResponse(
            ErrorSerializer,
            description=description,
            examples=[
                OpenApiExample(
                    example["code"], value=example_error(example), status_codes=[status_code]
                )
                for example in examples
            ],
        )
    return responses


def example_error(body: dict[str, Any]) -> dict[str, Any]:
    """An example error body with the members every error has."""
    return {
        "error": {
            **body,
            "request_id": "req_8ZC0yVd3QaGmEw0tT2rU1g",
            "doc_url": f"https://wan.example/api/docs/errors/#{body['code']}",
        }
    }
