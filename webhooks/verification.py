"""Standard Webhooks signature checks over the raw request body.

Written out here rather than through the Replicate client's helper: that one needs the body as
text, checks the timestamp only on request, and raises plain ValueError or binascii.Error on
malformed headers. The rules: `webhook-signature` is a space-separated list of `v1,<base64>`
entries, one of which must equal base64(HMAC-SHA256(key, "<id>.<timestamp>.<body>")), where the
key is the base64 part of the `whsec_...` secret; the timestamp must be within five minutes.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time

from django.conf import settings
from django.core.cache import cache

from generations.replicate import gateway

TOLERANCE_SECONDS = 5 * 60
MAX_WEBHOOK_ID_LENGTH = 255
SECRET_CACHE_KEY = "webhooks:replicate-signing-secret"  # noqa: S105 (a cache key, not a secret)


class InvalidWebhook(Exception):
    """The request is not a genuine, fresh webhook; the message says why (safe to show)."""


class SecretUnavailable(Exception):
    """We have no usable signing key: not configured and not fetchable, or malformed."""


def signing_key(secret: str) -> bytes:
    encoded = secret.removeprefix("whsec_")
    try:
        key = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if not key:
        raise ValueError("A webhook secret must look like whsec_<base64 key>.")
    return key


def signature(key: bytes, webhook_id: str, timestamp: str, body: bytes) -> bytes:
    signed = f"{webhook_id}.{timestamp}.".encode() + body
    return base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest())


def verify(
    *,
    secret: str,
    webhook_id: str | None,
    timestamp: str | None,
    signatures: str | None,
    body: bytes,
    now: float | None = None,
) -> None:
    """Returns when the headers prove the body came from the holder of the secret, recently;
    raises InvalidWebhook otherwise."""
    if not webhook_id or not timestamp or not signatures:
        raise InvalidWebhook(
            "The webhook-id, webhook-timestamp and webhook-signature headers are required."
        )
    if not (
        len(webhook_id) <= MAX_WEBHOOK_ID_LENGTH
        and webhook_id.isascii()
        and webhook_id.isprintable()
    ):
        raise InvalidWebhook("The webhook-id header is malformed.")
    if not timestamp.isascii() or not timestamp.isdigit():
        raise InvalidWebhook("The webhook-timestamp header must be a Unix time in seconds.")
    now = time.time() if now is None else now
    if abs(now - int(timestamp)) > TOLERANCE_SECONDS:
        raise InvalidWebhook("The webhook timestamp is more than five minutes off.")
    expected = signature(signing_key(secret), webhook_id, timestamp, body)
    for entry in signatures.split():
        version, _, value = entry.partition(",")
        if version == "v1" and hmac.compare_digest(value.encode(), expected):
            return
    raise InvalidWebhook("The webhook signature does not match.")


def replicate_secret() -> str:
    """REPLICATE_WEBHOOK_SECRET, else the account's key fetched once from Replicate and cached.

    Raises SecretUnavailable when there is no usable key."""
    secret = settings.REPLICATE_WEBHOOK_SECRET or cache.get(SECRET_CACHE_KEY)
    if not secret:
        try:
            secret = gateway.default_webhook_secret()
        except gateway.GatewayError as error:
            raise SecretUnavailable(str(error)) from None
        cache.set(SECRET_CACHE_KEY, secret, settings.WEBHOOK_SECRET_CACHE_SECONDS)
    try:
        signing_key(secret)
    except ValueError as error:
        raise SecretUnavailable(str(error)) from None
    return secret
