"""Coalescing of concurrent loads: one load per key at a time, its result shared by every caller
that asked meanwhile (no thundering herd on the store or the vendor).

The load runs as its own task, shielded from its callers: a client that disconnects (its
request cancelled) neither cancels the load for the others nor leaves them a CancelledError.
"""

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

T = TypeVar("T")


class SingleFlight(Generic[T]):
    def __init__(self) -> None:
        self._inflight: dict[Hashable, asyncio.Future[T]] = {}

    async def do(self, key: Hashable, load: Callable[[], Awaitable[T]]) -> T:
        running = self._inflight.get(key)
        if running is None:
            running = asyncio.ensure_future(load())
            self._inflight[key] = running
            running.add_done_callback(lambda done: self._finished(key, done))
        return await asyncio.shield(running)

    def _finished(self, key: Hashable, done: asyncio.Future[T]) -> None:
        if self._inflight.get(key) is done:
            del self._inflight[key]
        if not done.cancelled():
            done.exception()  # retrieved: every caller that still waits re-raises it itself
