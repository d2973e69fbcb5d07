"""The in-process stack of tests/service (store, emulators, ASGI app), a bridge that lets the
blocking ``Client`` reach it from a worker thread, and both clients on scripted answers
(``harness``)."""

import asyncio
import inspect
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx
import pytest

from tests.service.conftest import Stack, database_url, stack
from unified_ats.client import AsyncClient, Client

__all__ = [
    "API_KEY",
    "BASE",
    "TOKEN",
    "Harness",
    "LoopBridge",
    "Server",
    "Stack",
    "async_client",
    "database_url",
    "error",
    "harness",
    "run_blocking",
    "stack",
]

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


# --- scripted answers ------------------------------------------------------------------------

API_KEY = "uats_sk_" + "K" * 43
TOKEN = "uats_ct_" + "T" * 43
BASE = "http://ats.example"
Answer = httpx.Response | Callable[[httpx.Request], httpx.Response]


@dataclass
class Server:
    """Answers requests from a script (the last answer repeats) and records them."""

    answers: list[Answer]
    requests: list[httpx.Request] = field(default_factory=list)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers[min(len(self.requests), len(self.answers)) - 1]
        return answer(request) if callable(answer) else answer


@dataclass
class Harness:
    """One client (blocking or async) on a scripted server; ``call`` runs a namespace call
    the same way for both."""

    mode: str
    server: Server
    slept: list[float]
    client: Client | AsyncClient

    async def call(self, use: Callable[[Any], Any]) -> Any:
        result = use(self.client)
        if inspect.isawaitable(result):
            return await result
        if hasattr(result, "__aiter__"):
            return [item async for item in result]
        if isinstance(result, Iterator):
            return list(result)
        return result


@pytest.fixture(params=["sync", "async"])
def harness(request: pytest.FixtureRequest) -> Callable[..., Harness]:
    def make(*answers: Answer, token: str | None = TOKEN, **options: Any) -> Harness:
        server = Server(list(answers))
        slept: list[float] = []
        client: Client | AsyncClient
        if request.param == "sync":
            client = Client(BASE, API_KEY, token, transport=httpx.MockTransport(server), **options)
            client._runner.sleep = slept.append
        else:
            client = AsyncClient(
                BASE, API_KEY, token, transport=httpx.MockTransport(server), **options
            )

            async def sleep(seconds: float) -> None:
                slept.append(seconds)

            client._runner.sleep = sleep
        return Harness(request.param, server, slept, client)

    return make


def error(status: int, detail: Any = "nope", **headers: str) -> httpx.Response:
    return httpx.Response(status, json={"detail": detail}, headers=headers)
