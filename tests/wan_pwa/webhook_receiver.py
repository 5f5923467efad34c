"""An independent check of Standard Webhooks signatures (written from the specification, not
from our signing code), for the tests of the webhooks we send."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

from tests.fixtures.local_servers import Received


def signatures_valid_for(received: Received, secret: str, *, tolerance: int = 300) -> bool:
    """True when some `v1,` signature of the request is the secret's, and its timestamp is
    within `tolerance` seconds of now."""
    headers = received.headers
    message_id, timestamp = headers["webhook-id"], headers["webhook-timestamp"]
    if abs(time.time() - int(timestamp)) > tolerance:
        return False
    key = base64.b64decode(secret.split("_", 1)[1])
    content = f"{message_id}.{timestamp}.".encode() + received.body
    expected = base64.b64encode(hmac.new(key, content, hashlib.sha256).digest()).decode()
    given = [part.split(",", 1)[1] for part in headers["webhook-signature"].split(" ")]
    return any(hmac.compare_digest(expected, signature) for signature in given)


def event_of(received: Received) -> dict[str, Any]:
    return json.loads(received.body)
