"""The Python SDK against the live stack: an account with a key, the SDK's clients, and a proxy
in front of the server whose answers a test can spoil (a 5xx, a lost answer)."""

from __future__ import annotations

import collections
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
import pytest
from wanpwa import AsyncWanPWA, WanPWA

from tests import factories
from tests.fixtures.live_stack import LiveStack
from tests.fixtures.local_servers import Answer, Received, StartServer
from wan_pwa.accounts.api_keys import create_api_key
from wan_pwa.accounts.models import User

FORWARDED_ANSWER_HEADERS = (
    "content-type",
    "location",
    "retry-after",
    "idempotent-replayed",
    "x-request-id",
    "ratelimit-limit",
    "ratelimit-remaining",
    "ratelimit-reset",
)


@dataclass(frozen=True)
class Account:
    user: User
    key: str


@pytest.fixture
def account(live_stack: LiveStack, transactional_db: None) -> Iterator[Account]:
    """A user with the sign-up bonus (100 credits) and an API key, committed for the servers;
    once the test is over, the servers' work for it ends before the database is emptied."""
    user = factories.make_user()
    yield Account(user, create_api_key(user, "sdk tests")[1])
    live_stack.settle()


@pytest.fixture
def sdk(live_stack: LiveStack, account: Account) -> Iterator[WanPWA]:
    with WanPWA(api_key=account.key, base_url=live_stack.url) as client:
        yield client


@pytest.fixture
def async_sdk(live_stack: LiveStack, account: Account) -> AsyncWanPWA:
    return AsyncWanPWA(api_key=account.key, base_url=live_stack.url)


@dataclass(frozen=True)
class Exchange:
    """A request the proxy received, what the server answered it (None when it was not
    forwarded) and what the client was answered."""

    request: Received
    at: float
    upstream_status: int | None
    status: int
    headers: dict[str, str]


@dataclass(frozen=True)
class Fault:
    """Answer the next request with `status`, after forwarding it to the server (`forward`: the
    work is done, its answer lost) or without (the server never sees it)."""

    status: int
    forward: bool
    retry_after: str | None = None


@dataclass
class Proxy:
    url: str = ""
    faults: collections.deque[Fault] = field(default_factory=collections.deque)
    exchanges: list[Exchange] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def posts(self, path: str) -> list[Exchange]:
        return [e for e in self.exchanges if e.request.method == "POST" and e.request.path == path]


@pytest.fixture
def proxy(start_server: StartServer, live_stack: LiveStack) -> Iterator[Proxy]:
    """A real HTTP proxy on 127.0.0.1 in front of the live server (GET and POST)."""
    state = Proxy()
    upstream = httpx.Client(base_url=live_stack.url, timeout=30)

    def answer(request: Received) -> Answer:
        with state.lock:
            fault = state.faults.popleft() if state.faults else None
        at = time.monotonic()
        response = None
        if fault is None or fault.forward:
            headers = {k: v for k, v in request.headers.items() if k not in ("host", "connection")}
            response = upstream.request(
                request.method, request.path, headers=headers, content=request.body
            )
        if fault is not None:
            headers = {"Content-Type": "application/json"}
            if fault.retry_after is not None:
                headers["Retry-After"] = fault.retry_after
            reply = Answer(fault.status, headers, b'{"error": {"code": "bad_gateway"}}')
        else:
            assert response is not None
            kept = {
                name: value
                for name, value in response.headers.items()
                if name.lower() in FORWARDED_ANSWER_HEADERS
            }
            reply = Answer(response.status_code, kept, response.content)
        state.exchanges.append(
            Exchange(
                request,
                at,
                response.status_code if response is not None else None,
                reply.status,
                {k.lower(): v for k, v in reply.headers.items()},
            )
        )
        return reply

    state.url = start_server(answer).url
    yield state
    upstream.close()


@pytest.fixture
def sdk_via_proxy(proxy: Proxy, account: Account) -> Iterator[WanPWA]:
    with WanPWA(api_key=account.key, base_url=proxy.url) as client:
        yield client
