"""Client-side rate limiting keyed per vendor account, so the vendor never has to say 429.

The state sits behind :class:`RateLimiter` so that a shared backend (Redis) can replace the
in-process one when several server processes call the same vendor account.
"""

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Protocol

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True)
class RateRule:
    """At most one request start per ``min_interval`` seconds for ``key``; one at a time
    unless ``serial`` is False (then only the starts are spaced: calls may overlap, as a
    vendor limiting requests per second, not concurrency, allows)."""

    key: str
    min_interval: float
    serial: bool = True

    @classmethod
    def per_second(cls, key: str, requests_per_second: float | None) -> "RateRule | None":
        """Request starts spaced for a vendor that limits requests per second, not calls in
        flight; None (no spacing) when no positive rate is set."""
        if not requests_per_second or requests_per_second <= 0:
            return None
        return cls(key=key, min_interval=1 / requests_per_second, serial=False)


class RateLimiter(Protocol):
    def slot(self, rule: RateRule) -> AbstractAsyncContextManager[None]:
        """Wait for the right to start a request under ``rule``; hold it for the request."""
        ...


class InMemoryRateLimiter:
    """One lock and one last-start time per key: calls spaced by ``min_interval`` (and serial
    unless the rule says otherwise)."""

    def __init__(self, *, clock: Clock = time.monotonic, sleep: Sleep = asyncio.sleep) -> None:
        self._clock = clock
        self._sleep = sleep
        self._locks: dict[str, asyncio.Lock] = {}
        self._last_start: dict[str, float] = {}

    @asynccontextmanager
    async def slot(self, rule: RateRule) -> AsyncIterator[None]:
        lock = self._locks.setdefault(rule.key, asyncio.Lock())
        if not rule.serial:
            async with lock:
                await self._space(rule)
            yield
            return
        async with lock:
            await self._space(rule)
            yield

    async def _space(self, rule: RateRule) -> None:
        last = self._last_start.get(rule.key)
        if last is not None:
            wait = last + rule.min_interval - self._clock()
            if wait > 0:
                await self._sleep(wait)
        self._last_start[rule.key] = self._clock()


class NoRateLimiter:
    """For vendors without a documented limit: never waits."""

    @asynccontextmanager
    async def slot(self, rule: RateRule) -> AsyncIterator[None]:
        yield
