"""Outbound webhooks: Standard Webhooks signatures and in-order delivery on a background thread."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import logging
import queue
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

logger = logging.getLogger(__name__)


def key_bytes(secret: str) -> bytes:
    """The HMAC key inside a `whsec_<base64>` secret."""
    prefix, _, encoded = secret.partition("_")
    try:
        key = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if prefix != "whsec" or not key:
        raise ValueError("webhook secret must look like whsec_<base64 key>")
    return key


def sign(key: bytes, webhook_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` header: v1,<base64 HMAC-SHA256 of id.timestamp.body>."""
    signed = f"{webhook_id}.{timestamp}.".encode() + body
    digest = hmac.new(key, signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


@dataclass(frozen=True)
class WebhookAttempt:
    """One POST as sent, kept in `ReplicateSimulator.webhook_log` for tests and demos."""

    prediction_id: str
    event: str
    url: str
    webhook_id: str
    attempt: int  # 1 for the first try of a delivery, 2+ for retries
    status_code: int | None  # None when no response came back
    error: str | None
    body: dict[str, Any]
    sent_at: float  # time.time() when the request went out


@dataclass(frozen=True)
class _Delivery:
    event: str
    body: bytes
    webhook_id: str
    retry: bool
    copies: int


class WebhookSender(threading.Thread):
    """Sends one prediction's webhooks in the order given, so handlers never wait on them."""

    def __init__(
        self,
        *,
        url: str,
        prediction_id: str,
        key: bytes,
        client: httpx.Client,
        retry_delays: tuple[float, ...],
        stopping: threading.Event,
        record: Callable[[WebhookAttempt], None],
    ) -> None:
        super().__init__(name=f"webhooks-{prediction_id}", daemon=True)
        self._url = url
        self._prediction_id = prediction_id
        self._key = key
        self._client = client
        self._retry_delays = retry_delays
        self._stopping = stopping
        self._record = record
        self._queue: queue.SimpleQueue[_Delivery | None] = queue.SimpleQueue()

    def send(self, event: str, payload: dict[str, Any], *, retry: bool, copies: int = 1) -> None:
        """Queues a delivery; `retry` retries it with backoff until a 2xx (terminal events)."""
        body = json.dumps(payload).encode()
        self._queue.put(_Delivery(event, body, f"msg_{secrets.token_hex(12)}", retry, copies))

    def close(self) -> None:
        """No more deliveries; the thread ends once the queued ones are done."""
        self._queue.put(None)

    def run(self) -> None:
        while (delivery := self._queue.get()) is not None:
            for _ in range(delivery.copies):
                self._deliver(delivery)
                if self._stopping.is_set():
                    return

    def _deliver(self, delivery: _Delivery) -> None:
        pauses = self._retry_delays if delivery.retry else ()
        for attempt in range(1, len(pauses) + 2):
            if self._post(delivery, attempt):
                return
            if attempt > len(pauses) or self._stopping.wait(pauses[attempt - 1]):
                return

    def _post(self, delivery: _Delivery, attempt: int) -> bool:
        timestamp = int(time.time())
        headers = {
            "content-type": "application/json",
            "user-agent": "Replicate-Webhook/1.0 (wan-pwa simulator)",
            "webhook-id": delivery.webhook_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": sign(self._key, delivery.webhook_id, timestamp, delivery.body),
        }
        status_code: int | None = None
        error: str | None = None
        sent_at = time.time()
        try:
            # Redirects are not followed, as on Replicate: a 3xx counts as a failure.
            response = self._client.post(self._url, content=delivery.body, headers=headers)
            status_code = response.status_code
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"
        self._record(
            WebhookAttempt(
                prediction_id=self._prediction_id,
                event=delivery.event,
                url=self._url,
                webhook_id=delivery.webhook_id,
                attempt=attempt,
                status_code=status_code,
                error=error,
                body=json.loads(delivery.body),
                sent_at=sent_at,
            )
        )
        logger.info(
            "webhook %s %s %s attempt %d -> %s",
            delivery.event,
            self._prediction_id,
            delivery.webhook_id,
            attempt,
            status_code or error,
        )
        return status_code is not None and 200 <= status_code < 300
