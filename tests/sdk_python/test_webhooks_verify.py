"""`wanpwa.webhooks.verify` against signatures computed here, by the Standard Webhooks recipe,
not by the SDK's own signing code."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time

import pytest
from wanpwa import WebhookVerificationError, webhooks

KEY = secrets.token_bytes(24)
SECRET = "whsec_" + base64.b64encode(KEY).decode()
GENERATION = {"id": 7, "status": "succeeded", "progress": 100}
BODY = json.dumps(
    {"type": "generation.succeeded", "timestamp": "2026-12-05T18:00:00.123456Z", "data": GENERATION}
).encode()


def signature(key: bytes, webhook_id: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(key, f"{webhook_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def headers(
    *, timestamp: int | None = None, signatures: str | None = None, body: bytes = BODY
) -> dict[str, str]:
    sent = int(time.time()) if timestamp is None else timestamp
    return {
        "Webhook-Id": "msg_2Lx",
        "Webhook-Timestamp": str(sent),
        "Webhook-Signature": signatures or signature(KEY, "msg_2Lx", sent, body),
    }


def test_a_signed_event_is_verified_and_parsed():
    event = webhooks.verify(headers(), BODY, SECRET)

    assert (event.id, event.type) == ("msg_2Lx", "generation.succeeded")
    assert event.timestamp.isoformat() == "2026-12-05T18:00:00.123456+00:00"
    assert event.data == GENERATION
    # The body as text and lower-case header names do as well.
    lower = {name.lower(): value for name, value in headers().items()}
    assert webhooks.verify(lower, BODY.decode(), SECRET) == event


def test_any_matching_v1_signature_is_enough_as_during_a_rotation():
    now = int(time.time())
    old_key = secrets.token_bytes(24)
    both = f"{signature(old_key, 'msg_2Lx', now, BODY)} {signature(KEY, 'msg_2Lx', now, BODY)}"
    assert webhooks.verify(headers(timestamp=now, signatures=both), BODY, SECRET).id == "msg_2Lx"
    old_secret = "whsec_" + base64.b64encode(old_key).decode()
    assert webhooks.verify(headers(timestamp=now, signatures=both), BODY, old_secret)


def other_version(signed: dict[str, str]) -> dict[str, str]:
    """The right signature, labelled with a version the verifier does not know."""
    return {**signed, "Webhook-Signature": signed["Webhook-Signature"].replace("v1,", "v2,")}


@pytest.mark.parametrize(
    ("spoil", "why"),
    [
        (lambda h, b: (h, b.replace(b"succeeded", b"failed", 1)), "No signature matches"),
        (lambda h, b: ({**h, "Webhook-Id": "msg_other"}, b), "No signature matches"),
        (lambda h, b: (headers(timestamp=int(time.time()) - 301), b), "too far from now"),
        (lambda h, b: (headers(timestamp=int(time.time()) + 301), b), "too far from now"),
        (lambda h, b: ({**h, "Webhook-Timestamp": "soon"}, b), "not a number"),
        (lambda h, b: ({k: v for k, v in h.items() if k != "Webhook-Signature"}, b), "missing"),
        (lambda h, b: (other_version(h), b), "No signature matches"),
    ],
    ids=["body", "id", "old", "future", "timestamp", "no-signature", "other-version"],
)
def test_a_spoiled_webhook_is_refused(spoil, why: str):
    spoiled_headers, spoiled_body = spoil(headers(), BODY)
    with pytest.raises(WebhookVerificationError, match=why):
        webhooks.verify(spoiled_headers, spoiled_body, SECRET)


def test_another_secret_or_a_malformed_one_is_refused():
    other = "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()
    with pytest.raises(WebhookVerificationError, match="No signature matches"):
        webhooks.verify(headers(), BODY, other)
    with pytest.raises(WebhookVerificationError, match="not a whsec_"):
        webhooks.verify(headers(), BODY, "whsec_not base64!")


def test_the_tolerance_is_the_callers():
    an_hour_ago = int(time.time()) - 3600
    late = headers(timestamp=an_hour_ago)
    assert webhooks.verify(late, BODY, SECRET, tolerance=3700).type == "generation.succeeded"
    with pytest.raises(WebhookVerificationError):
        webhooks.verify(late, BODY, SECRET)


def test_a_signed_body_that_is_no_event_is_refused():
    body = b"[1, 2, 3]"
    with pytest.raises(WebhookVerificationError, match="not an event"):
        webhooks.verify(headers(body=body), body, SECRET)
