"""How each resource's operations, written once as `_core` generators, become the sync client's
methods (they return the result) and the async client's (they return a coroutine): a resource
class says `get = blocking(Base._get)` or `get = awaitable(Base._get)`, keeping the operation's
signature, types and docstring."""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from typing import Any, Concatenate, ParamSpec, TypeVar

import httpx

from wanpwa._core import Core, Listing, Op, Outcome, Send

P = ParamSpec("P")
T = TypeVar("T")


class SyncRunner:
    """Runs operations with httpx.Client, sleeping with time.sleep."""

    def __init__(self, http: httpx.Client) -> None:
        self.http = http

    def run(self, op: Op[T]) -> T:
        outcome: Outcome = None
        try:
            while True:
                effect = op.send(outcome)
                if isinstance(effect, Send):
                    outcome = self._send(effect)
                else:
                    time.sleep(effect.seconds)
                    outcome = None
        except StopIteration as done:
            return done.value

    def iterate(self, core: Core, listing: Listing[T]) -> Iterator[T]:
        params: dict[str, Any] | None = listing.params
        while params is not None:
            page = self.run(core.page(listing, params))
            yield from page.items
            params = page.next_params

    def _send(self, effect: Send) -> Outcome:
        try:
            response = self.http.send(
                effect.request, stream=True, follow_redirects=effect.follow_redirects
            )
            try:
                if effect.sink is not None and response.is_success:
                    for chunk in response.iter_bytes():
                        effect.sink.write(chunk)
                else:
                    response.read()
            finally:
                response.close()
            return response
        except httpx.TransportError as error:
            return error


class AsyncRunner:
    """Runs operations with httpx.AsyncClient, sleeping with asyncio.sleep."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http

    async def run(self, op: Op[T]) -> T:
        outcome: Outcome = None
        try:
            while True:
                effect = op.send(outcome)
                if isinstance(effect, Send):
                    outcome = await self._send(effect)
                else:
                    await asyncio.sleep(effect.seconds)
                    outcome = None
        except StopIteration as done:
            return done.value

    async def iterate(self, core: Core, listing: Listing[T]) -> AsyncIterator[T]:
        params: dict[str, Any] | None = listing.params
        while params is not None:
            page = await self.run(core.page(listing, params))
            for item in page.items:
                yield item
            params = page.next_params

    async def _send(self, effect: Send) -> Outcome:
        try:
            response = await self.http.send(
                effect.request, stream=True, follow_redirects=effect.follow_redirects
            )
            try:
                if effect.sink is not None and response.is_success:
                    async for chunk in response.aiter_bytes():
                        effect.sink.write(chunk)
                else:
                    await response.aread()
            finally:
                await response.aclose()
            return response
        except httpx.TransportError as error:
            return error


class Resource:
    def __init__(self, core: Core, runner: Any) -> None:
        self._core = core
        self._runner = runner


def blocking(op: Callable[Concatenate[Any, P], Op[T]]) -> Callable[Concatenate[Any, P], T]:
    @functools.wraps(op)
    def method(self: Resource, *args: P.args, **kwargs: P.kwargs) -> T:
        return self._runner.run(op(self, *args, **kwargs))

    return method


def awaitable(
    op: Callable[Concatenate[Any, P], Op[T]],
) -> Callable[Concatenate[Any, P], Coroutine[Any, Any, T]]:
    @functools.wraps(op)
    async def method(self: Resource, *args: P.args, **kwargs: P.kwargs) -> T:
        return await self._runner.run(op(self, *args, **kwargs))

    return method


def iterating(
    listing: Callable[Concatenate[Any, P], Listing[T]],
) -> Callable[Concatenate[Any, P], Iterator[T]]:
    """A list's every item, fetching the next page as the iteration reaches it."""

    @functools.wraps(listing)
    def method(self: Resource, *args: P.args, **kwargs: P.kwargs) -> Iterator[T]:
        return self._runner.iterate(self._core, listing(self, *args, **kwargs))

    return method


def async_iterating(
    listing: Callable[Concatenate[Any, P], Listing[T]],
) -> Callable[Concatenate[Any, P], AsyncIterator[T]]:
    """`iterating` for `async for`."""

    @functools.wraps(listing)
    def method(self: Resource, *args: P.args, **kwargs: P.kwargs) -> AsyncIterator[T]:
        return self._runner.iterate(self._core, listing(self, *args, **kwargs))

    return method
