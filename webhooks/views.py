"""Inbound webhooks. Every request is answered in milliseconds: verification, one transaction of
small writes, and any slow work (copying a video) handed to a task. Bad input gets a 4xx and
changes nothing; unverified requests are not even recorded, so nobody can fill the event log
or claim a webhook id."""

from __future__ import annotations

import json
import logging
from typing import Any

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from credits.stripe_gateway import PaymentsUnavailable
from generations.replicate import predictions
from wan_pwa.analytics.counters import count_event
from wan_pwa.log_context import names_generation
from webhooks import stripe_events, stripe_signature, verification
from webhooks.actions import receive_replicate_webhook, receive_stripe_event

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 2 * 1024 * 1024
MAX_GENERATION_ID = 2**63 - 1


def _no_constants(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def storable(value: Any) -> Any:
    """The parsed body with text PostgreSQL can store: no NUL characters, no lone surrogates."""
    if isinstance(value, str):
        return value.replace("\x00", "").encode("utf-8", "replace").decode("utf-8")
    if isinstance(value, list):
        return [storable(item) for item in value]
    if isinstance(value, dict):
        return {storable(key): storable(item) for key, item in value.items()}
    return value


def _error(status: int, message: str) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


@names_generation(query="generation")
@csrf_exempt  # authenticated by its signature, not by a cookie
@require_POST
def replicate(request: HttpRequest) -> JsonResponse:
    generation = request.GET.get("generation", "")
    if not (
        generation.isascii() and generation.isdigit() and 0 < int(generation) <= MAX_GENERATION_ID
    ):
        return _error(400, "The generation query parameter must be a generation id.")
    body = request.body  # Django refuses (400) anything over DATA_UPLOAD_MAX_MEMORY_SIZE
    if len(body) > MAX_BODY_BYTES:
        return _error(413, "The body is too large.")
    try:
        secret = verification.replicate_secret()
    except verification.SecretUnavailable as error:
        logger.error("webhook signing key unavailable: %s", error)
        # Replicate retries the terminal webhook, so it can be delivered once the key is back.
        return _error(503, "The webhook signing key is not available yet; try again later.")
    try:
        verification.verify(
            secret=secret,
            webhook_id=request.headers.get("webhook-id"),
            timestamp=request.headers.get("webhook-timestamp"),
            signatures=request.headers.get("webhook-signature"),
            body=body,
        )
    except verification.InvalidWebhook as error:
        logger.warning("rejected webhook for generation %s: %s", generation, error)
        count_event("webhook_rejected")
        return _error(401, str(error))
    try:
        prediction = storable(json.loads(body, parse_constant=_no_constants))
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        return _error(400, "The body is not JSON.")
    if not predictions.is_wellformed(prediction):
        return _error(400, "The body is not a prediction (it needs a string id and status).")
    outcome = receive_replicate_webhook(
        request.headers["webhook-id"], int(generation), predictions.parse(prediction), prediction
    )
    return JsonResponse({"outcome": outcome})


@csrf_exempt  # authenticated by its signature, not by a cookie
@require_POST
def stripe(request: HttpRequest) -> JsonResponse:
    body = request.body
    if len(body) > MAX_BODY_BYTES:
        return _error(413, "The body is too large.")
    secret = settings.STRIPE_WEBHOOK_SECRET
    if not secret:
        logger.error("Stripe webhook received but STRIPE_WEBHOOK_SECRET is not set")
        # Stripe retries for three days, so the event arrives once the secret is configured.
        return _error(503, "Stripe webhooks are not configured yet; try again later.")
    try:
        stripe_signature.verify(
            secret=secret, header=request.headers.get("Stripe-Signature"), body=body
        )
    except verification.InvalidWebhook as error:
        logger.warning("rejected Stripe webhook: %s", error)
        return _error(400, str(error))
    try:
        payload = storable(json.loads(body, parse_constant=_no_constants))
        event = stripe_events.parse(payload)
    except stripe_events.MalformedEvent as error:
        return _error(400, f"The event is malformed: {error}")
    except (ValueError, RecursionError):
        return _error(400, "The body is not JSON.")
    try:
        outcome = receive_stripe_event(event, payload)
    except PaymentsUnavailable:  # an event that needs Stripe's details (a saved card)
        # Nothing was recorded: Stripe sends it again, by when it may answer.
        return _error(503, "Stripe could not be asked about this event; try again later.")
    return JsonResponse({"outcome": outcome})
