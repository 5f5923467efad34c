"""Signed webhook deliveries from a background thread: retried on failure, and on request sent
twice or in reverse order, as Stripe may."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import queue
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

logger = logging.getLogger(__name__)


def signature_header(secret: str, body: bytes, timestamp: int | None = None) -> str:
    """`t=<unix>,v1=<hex HMAC-SHA256 of "t.body" keyed by the whole whsec_ secret>`."""
    stamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={stamp},v1={digest}"


@dataclass
class DeliveryOptions:
    duplicate: bool = False  # every event sent twice
    reorder: bool = False  # the events of one action sent newest first
    fail_first: int = 0  # this many next attempts are treated as failed (then retried)
    max_attempts: int = 5
    retry_delay: float = 0.5  # doubling


@dataclass(frozen=True)
class Attempt:
    event_id: str
    type: str
    attempt: int
    status_code: int | None


@dataclass
class WebhookSender:
    url: str
    secret: str
    options: DeliveryOptions = field(default_factory=DeliveryOptions)
    log: list[Attempt] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._queue: queue.Queue[tuple[dict[str, Any], int] | None] = queue.Queue()
        self._http = httpx.Client(timeout=10, follow_redirects=False)
        self._thread = threading.Thread(target=self._run, name="stripe-webhooks", daemon=True)
        self._thread.start()

    def send(self, events: list[dict[str, Any]]) -> None:
        batch = list(reversed(events)) if self.options.reorder else list(events)
        for event in batch:
            for _ in range(2 if self.options.duplicate else 1):
                self._queue.put((event, 1))

    def wait_idle(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while self._queue.unfinished_tasks and time.monotonic() < deadline:
            time.sleep(0.02)

    def stop(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=5)
        self._http.close()

    def _run(self) -> None:
        while (item := self._queue.get()) is not None:
            try:
                self._deliver(*item)
            finally:
                self._queue.task_done()
        self._queue.task_done()

    def _deliver(self, event: dict[str, Any], attempt: int) -> None:
        body = json.dumps(event).encode()
        status: int | None = None
        if self.options.fail_first > 0:
            self.options.fail_first -= 1
        else:
            try:
                response = self._http.post(
                    self.url,
                    content=body,
                    headers={
                        "Content-Type": "application/json; charset=utf-8",
                        "Stripe-Signature": signature_header(self.secret, body),
                        "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
                    },
                )
                status = response.status_code
            except httpx.HTTPError as error:
                logger.warning("webhook %s to %s failed: %s", event["type"], self.url, error)
        self.log.append(Attempt(event["id"], event["type"], attempt, status))
        if status is not None and 200 <= status < 300:
            return
        if attempt < self.options.max_attempts:
            delay = self.options.retry_delay * 2 ** (attempt - 1)
            timer = threading.Timer(delay, self._queue.put, args=((event, attempt + 1),))
            timer.daemon = True
            timer.start()
