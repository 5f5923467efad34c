"""Fixtures for the local Replicate simulator: a running server and a webhook receiver."""

from __future__ import annotations

import collections
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import replicate

from generations.simulator import ReplicateSimulator

# Fast enough that a whole prediction, webhooks included, takes well under a second.
SIMULATOR_FAST = {"duration": 0.3, "frames": 4, "webhook_retry_delays": (0.05, 0.1, 0.2)}


@pytest.fixture
def simulator_factory() -> Iterator[Callable[..., ReplicateSimulator]]:
    """Starts simulators with SIMULATOR_FAST plus the given options; stops them all afterwards."""
    started: list[ReplicateSimulator] = []

    def start(**options: Any) -> ReplicateSimulator:
        simulator = ReplicateSimulator(**{**SIMULATOR_FAST, **options}).start()
        started.append(simulator)
        return simulator

    yield start
    for simulator in started:
        simulator.stop()


@pytest.fixture
def simulator(simulator_factory: Callable[..., ReplicateSimulator]) -> ReplicateSimulator:
    return simulator_factory()


@pytest.fixture
def simulator_client(simulator: ReplicateSimulator) -> replicate.Client:
    """The official client, unchanged, pointed at the simulator."""
    return replicate.Client(api_token="r8_test", base_url=simulator.base_url)


@dataclass(frozen=True)
class ReceivedWebhook:
    path: str  # with the query string
    headers: dict[str, str]  # lower-case names
    body: bytes
    received_at: float


class WebhookReceiver:
    """A real HTTP endpoint that records every request and answers with scripted statuses."""

    def __init__(self) -> None:
        self.requests: list[ReceivedWebhook] = []
        self.statuses: collections.deque[int] = collections.deque()  # answered first, then 200
        self.redirect_to = ""  # the Location header of a 3xx answer
        self.files: dict[str, tuple[bytes, str]] = {}  # GET path -> (body, content type)
        self._changed = threading.Condition()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    @property
    def origin(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def url(self, path: str = "/api/webhooks/replicate?generation=42") -> str:
        return self.origin + path

    def wait_until(
        self, condition: Callable[[list[ReceivedWebhook]], bool], timeout: float = 3.0
    ) -> list[ReceivedWebhook]:
        """The requests once `condition(requests)` holds; fails the test after `timeout`."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not condition(self.requests):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    pytest.fail(f"webhook condition not met in {timeout}s: {self.requests!r}")
                self._changed.wait(remaining)
            return list(self.requests)

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(2)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                request = ReceivedWebhook(
                    self.path, {k.lower(): v for k, v in self.headers.items()}, body, time.time()
                )
                with receiver._changed:
                    status = receiver.statuses.popleft() if receiver.statuses else 200
                    receiver.requests.append(request)
                    receiver._changed.notify_all()
                self.send_response(status)
                if 300 <= status < 400:
                    self.send_header("Location", receiver.redirect_to)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_GET(self) -> None:
                body, content_type = receiver.files.get(self.path, (b"", ""))
                self.send_response(200 if content_type else 404)
                self.send_header("Content-Type", content_type or "text/plain")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass  # keep test output clean

        return Handler


@pytest.fixture
def simulator_webhooks() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver()
    yield receiver
    receiver.stop()
