"""A transport between a connector and its emulator that counts, delays and fails requests:
what the concurrency tests observe (calls in flight, request starts, failures injected on
chosen requests only)."""

import asyncio
from collections.abc import Callable

import httpx

from connectors.sdk.emulation import EmulatorTransport

Fail = Callable[[httpx.Request, int], httpx.Response | None]
"""Given a request and how many times the same URL was asked before: a response to answer
instead of the emulator's, or None."""


class Probe(httpx.AsyncBaseTransport):
    def __init__(
        self,
        app: object,
        *,
        delay: float = 0.0,
        clock: Callable[[], float] | None = None,
        fail: Fail | None = None,
    ) -> None:
        self.inner = EmulatorTransport(app)  # type: ignore[arg-type]
        self.delay = delay
        self.clock = clock
        self.fail = fail
        self.in_flight: dict[str, int] = {}
        self.peak: dict[str, int] = {}
        self.starts: list[tuple[float, str]] = []
        self.asked: dict[str, int] = {}

    @staticmethod
    def kind(request: httpx.Request) -> str:
        """The route a request is for: its path without ids (``/documents``, ``/candidates/``)."""
        parts = [p for p in request.url.path.split("/") if p and not p.isdigit()]
        return "/" + parts[-1]

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        kind = self.kind(request)
        url = str(request.url)
        seen = self.asked.get(url, 0)
        self.asked[url] = seen + 1
        if self.clock is not None:
            self.starts.append((self.clock(), kind))
        self.in_flight[kind] = self.in_flight.get(kind, 0) + 1
        self.peak[kind] = max(self.peak.get(kind, 0), self.in_flight[kind])
        try:
            await asyncio.sleep(self.delay)
            injected = self.fail(request, seen) if self.fail else None
            if injected is not None:
                return injected
            return await self.inner.handle_async_request(request)
        finally:
            self.in_flight[kind] -= 1
