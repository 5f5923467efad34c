"""The clients: `WanPWA` (blocking) and `AsyncWanPWA` (asyncio), the same resources on the same
request core, differing only in how a request is sent and how a pause is waited."""

from __future__ import annotations

from types import TracebackType
from typing import Self

import httpx

from wanpwa._core import DEFAULT_MAX_RETRIES, DEFAULT_TIMEOUT, Core
from wanpwa._resource import AsyncRunner, SyncRunner
from wanpwa.catalog import AsyncModels, Models
from wanpwa.credits import AsyncCreditsResource, CreditsResource
from wanpwa.generations import AsyncGenerations, Generations
from wanpwa.webhook_endpoints import AsyncWebhookEndpoints, WebhookEndpoints


class WanPWA:
    """A client of the Wan PWA API.

    `api_key` and `base_url` default to the WANPWA_API_KEY and WANPWA_BASE_URL environment
    variables. Failed requests are retried `max_retries` times (connection errors, 408, 429,
    5xx); `timeout` is in seconds per request. Close it (or use `with`) when done."""

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str | None = None,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        http_client: httpx.Client | None = None,
    ) -> None:
        core = Core(api_key=api_key, base_url=base_url, timeout=timeout, max_retries=max_retries)
        self._http = http_client or httpx.Client()
        runner = SyncRunner(self._http)
        self.base_url = core.base_url
        self.generations = Generations(core, runner)
        self.credits = CreditsResource(core, runner)
        self.models = Models(core, runner)
        self.webhook_endpoints = WebhookEndpoints(core, runner)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class AsyncWanPWA:
    """`WanPWA` for asyncio: the same resources, whose calls are awaited and whose lists are
    iterated with `async for`."""

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str | None = None,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        core = Core(api_key=api_key, base_url=base_url, timeout=timeout, max_retries=max_retries)
        self._http = http_client or httpx.AsyncClient()
        runner = AsyncRunner(self._http)
        self.base_url = core.base_url
        self.generations = AsyncGenerations(core, runner)
        self.credits = AsyncCreditsResource(core, runner)
        self.models = AsyncModels(core, runner)
        self.webhook_endpoints = AsyncWebhookEndpoints(core, runner)

    async def close(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()
