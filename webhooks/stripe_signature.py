"""Stripe's webhook signature over the raw request body.

`Stripe-Signature: t=<unix seconds>,v1=<hex>[,v1=<hex>...]`, where each v1 may be
HMAC-SHA256(key=the whole `whsec_...` secret as UTF-8, msg=b"<t>." + body) in hex: several are
sent while a secret is being rolled, and any one matching is enough. Other schemes (v0) are
ignored. Written out rather than through stripe.Webhook so that every malformed header is one
InvalidWebhook (a 400), bodies stay bytes, and a timestamp too far in the future fails as well.
"""

from __future__ import annotations

import hashlib
import hmac
import string
import time

from webhooks.verification import InvalidWebhook

TOLERANCE_SECONDS = 300
MAX_HEADER_LENGTH = 4096
MAX_SIGNATURES = 16


def expected_signature(secret: str, timestamp: str, body: bytes) -> str:
    signed = timestamp.encode() + b"." + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def verify(*, secret: str, header: str | None, body: bytes, now: float | None = None) -> None:
    """Returns when the header proves the body came from the holder of the secret, within the
    tolerance; raises InvalidWebhook (safe to show) otherwise."""
    if not header:
        raise InvalidWebhook("The Stripe-Signature header is required.")
    if len(header) > MAX_HEADER_LENGTH or not header.isascii():
        raise InvalidWebhook("The Stripe-Signature header is malformed.")
    timestamps, signatures = [], []
    for item in header.split(","):
        scheme, _, value = item.strip().partition("=")
        if scheme == "t":
            timestamps.append(value)
        elif scheme == "v1":
            signatures.append(value)
    if len(timestamps) != 1 or not timestamps[0].isdigit() or len(timestamps[0]) > 12:
        raise InvalidWebhook("The Stripe-Signature header needs one t=<unix seconds>.")
    if not signatures or len(signatures) > MAX_SIGNATURES:
        raise InvalidWebhook("The Stripe-Signature header has no v1 signature.")
    now = time.time() if now is None else now
    if abs(now - int(timestamps[0])) > TOLERANCE_SECONDS:
        raise InvalidWebhook("The Stripe-Signature timestamp is more than five minutes off.")
    expected = expected_signature(secret, timestamps[0], body).encode()
    matched = False
    for candidate in signatures:
        if len(candidate) == 64 and set(candidate) <= set(string.hexdigits.lower()):
            # Every candidate is compared, so the time taken says nothing about which matched.
            matched |= hmac.compare_digest(candidate.encode(), expected)
    if not matched:
        raise InvalidWebhook("No Stripe-Signature v1 signature matches.")
