"""Verifying the webhooks Wan PWA sends you (Standard Webhooks, as Replicate and Svix sign them):

    event = webhooks.verify(request.headers, raw_body, "whsec_...")

The signature is base64(HMAC-SHA256(key, f"{webhook-id}.{webhook-timestamp}.{body}")) with the
key the secret's base64 after "whsec_"; `webhook-signature` holds one or more `v1,<signature>`
entries (two while a rotated secret's predecessor still signs), and one matching is enough.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from wanpwa.errors import WebhookVerificationError
from wanpwa.models import WebhookEvent

SECRET_PREFIX = "whsec_"  # noqa: S105 (a prefix, not a secret)
DEFAULT_TOLERANCE = 300  # seconds between the signing and now, either way

__all__ = ["WebhookEvent", "WebhookVerificationError", "sign", "verify"]


def verify(
    headers: Mapping[str, str] | Any,
    body: bytes | str,
    secret: str,
    *,
    tolerance: float = DEFAULT_TOLERANCE,
) -> WebhookEvent:
    """The event, once its signature and timestamp are right; WebhookVerificationError if not.

    `headers`: any mapping of the request's headers (names in any case); `body`: the raw body,
    exactly as received (parsing and re-encoding the JSON would change the bytes signed)."""
    named = {str(name).lower(): str(value) for name, value in headers.items()}
    try:
        webhook_id = named["webhook-id"]
        timestamp = named["webhook-timestamp"]
        signatures = named["webhook-signature"]
    except KeyError as missing:
        raise WebhookVerificationError(f"The {missing.args[0]} header is missing.") from None
    try:
        sent_at = int(timestamp)
    except ValueError:
        raise WebhookVerificationError("The webhook-timestamp header is not a number.") from None
    if abs(time.time() - sent_at) > tolerance:
        raise WebhookVerificationError(
            "The webhook-timestamp is too far from now (a replay, or a wrong clock)."
        )
    raw = body.encode() if isinstance(body, str) else bytes(body)
    expected = sign(secret, webhook_id, sent_at, raw).split(",", 1)[1].encode()
    matches = [
        hmac.compare_digest(candidate.encode(), expected)
        for version, _, candidate in (entry.partition(",") for entry in signatures.split())
        if version == "v1"
    ]
    if not any(matches):
        raise WebhookVerificationError("No signature matches: wrong secret, or a changed body.")
    try:
        event = json.loads(raw)
        return WebhookEvent(
            id=webhook_id,
            type=event["type"],
            timestamp=datetime.fromisoformat(event["timestamp"]),
            data=event["data"],
        )
    except (ValueError, KeyError, TypeError) as error:
        raise WebhookVerificationError(f"The signed body is not an event: {error}") from None


def sign(secret: str, webhook_id: str, timestamp: int, body: bytes) -> str:
    """The `v1,<signature>` entry for a message: for testing your own receiver."""
    encoded = secret.removeprefix(SECRET_PREFIX)
    try:
        key = base64.b64decode(encoded, validate=True)
    except binascii.Error:
        raise WebhookVerificationError("The secret is not a whsec_ base64 secret.") from None
    message = f"{webhook_id}.{timestamp}.".encode() + body
    digest = hmac.new(key, message, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()
