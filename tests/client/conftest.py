"""The in-process stack of tests/service (store, emulators, ASGI app), and a bridge that lets the
blocking ``Client`` reach it from a worker thread."""

import asyncio
from collections.abc import Callable
from typing import TypeVar

import httpx

from tests.service.conftest import Stack, database_url, stack
from unified_ats.client import AsyncClient, Client

__all__ = ["LoopBridge", "Stack", "async_client", "database_url", "run_blocking", "stack"]

T = TypeVar("T")
BASE_URL = "http://testserver"


class LoopBridge(httpx.BaseTransport):
    """A blocking transport that sends each request through the stack's ``httpx.AsyncClient``
    on the test's event loop (the store's connections belong to that loop). Use it from a
    worker thread only."""

    def __init__(self, client: httpx.AsyncClient, loop: asyncio.AbstractEventLoop) -> None:
        self.client = client
        self.loop = loop

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        forwarded = httpx.Request(
            request.method, request.url, headers=request.headers, content=request.read()
        )
        future = asyncio.run_coroutine_threadsafe(self.client.send(forwarded), self.loop)
        response = future.result(timeout=60)
        headers = [(k, v) for k, v in response.headers.multi_items() if k != "content-encoding"]
        return httpx.Response(response.status_code, headers=headers, content=response.content)


def async_client(stack: Stack, token: str | None = None, **options: object) -> AsyncClient:
    """An ``AsyncClient`` on the stack's ASGI app (it shares, and does not close, its pool)."""
    return AsyncClient(BASE_URL, stack.api_key, token, http_client=stack.client, **options)  # type: ignore[arg-type]


async def run_blocking(stack: Stack, token: str | None, work: Callable[[Client], T]) -> T:
    """Run ``work`` with a blocking ``Client`` on the stack, in a worker thread."""
    transport = LoopBridge(stack.client, asyncio.get_running_loop())

    def in_thread() -> T:
        with Client(BASE_URL, stack.api_key, token, transport=transport) as client:
            return work(client)

    return await asyncio.to_thread(in_thread)
