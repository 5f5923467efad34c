"""The clients: `WanPWA` (blocking) and `AsyncWanPWA` (asyncio), the same resources on the same
request core, differing only in how a request is sent and how a pause is waited."""

from __future__ import annotations

import typing
from types import TracebackType
from typing import Any, Generic, Self, TypeVar

import httpx

from wanpwa._core import DEFAULT_MAX_RETRIES, DEFAULT_TIMEOUT, Core
from wanpwa._resource import AsyncRunner, Resource, SyncRunner
from wanpwa.catalog import AsyncModels, Models
from wanpwa.credits import AsyncCreditsResource, CreditsResource
from wanpwa.generations import AsyncGenerations, Generations
from wanpwa.webhook_endpoints import AsyncWebhookEndpoints, WebhookEndpoints

Http = TypeVar("Http", httpx.Client, httpx.AsyncClient)


class _Client(Generic[Http]):
    """What both clients share: the configuration, and one instance of each resource the
    subclass declares (`generations: Generations`), all on one core and one runner."""

    _http_class: type[Http]
    _runner_class: type[SyncRunner] | type[AsyncRunner]

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str | None = None,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        http_client: Http | None = None,
    ) -> None:
        core = Core(api_key=api_key, base_url=base_url, timeout=timeout, max_retries=max_retries)
        self.base_url = core.base_url
        self._http: Http = http_client or self._http_class()
        runner: Any = self._runner_class(self._http)  # type: ignore[arg-type]
        for name, hint in typing.get_type_hints(type(self)).items():
            if isinstance(hint, type) and issubclass(hint, Resource):
                setattr(self, name, hint(core, runner))


class WanPWA(_Client[httpx.Client]):
    """A client of the Wan PWA API.

    `api_key` and `base_url` default to the WANPWA_API_KEY and WANPWA_BASE_URL environment
    variables. Failed requests are retried `max_retries` times (connection errors, 408, 429,
    5xx); `timeout` is in seconds per request. Close it (or use `with`) when done."""

    _http_class = httpx.Client
    _runner_class = SyncRunner
    generations: Generations
    credits: CreditsResource
    models: Models
    webhook_endpoints: WebhookEndpoints

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


class AsyncWanPWA(_Client[httpx.AsyncClient]):
    """`WanPWA` for asyncio: the same resources, whose calls are awaited and whose lists are
    iterated with `async for`."""

    _http_class = httpx.AsyncClient
    _runner_class = AsyncRunner
    generations: AsyncGenerations
    credits: AsyncCreditsResource
    models: AsyncModels
    webhook_endpoints: AsyncWebhookEndpoints

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
