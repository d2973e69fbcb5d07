"""Sending a ``Call``: the only code that exists twice, once blocking and once async.

Everything else (building the request, whether and how long to wait before a retry, mapping an
error, parsing) is in ``Core``; these classes only send, sleep, read and write.
"""

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import replace
from pathlib import Path
from typing import Any, BinaryIO, Generic, ParamSpec, TypeVar, overload

import httpx
import pydantic

from schemas import Page
from unified_ats.client._core import Call, Core, Id
from unified_ats.client._files import StrPath, atomic_file, file_name_from, safe_file_name
from unified_ats.client.errors import UnexpectedResponse

P = ParamSpec("P")
T = TypeVar("T")
M = TypeVar("M", bound=pydantic.BaseModel)


def _next_cursor(call: Call[Page[M]], page: Page[M]) -> Call[Page[M]] | None:
    """The call for the page after ``page``, or None after the last one."""
    if page.cursor is None:
        return None
    if page.cursor == call.params.get("cursor"):
        raise UnexpectedResponse(f"GET {call.path}: the server answered the same cursor again")
    return call.with_params(cursor=page.cursor)


def _directory(to: StrPath) -> Path:
    """Checked before anything is sent: a download must not be wasted on a wrong target."""
    directory = Path(to)
    if not directory.is_dir():
        raise NotADirectoryError(f"{directory} is not a directory")
    return directory


def _target(
    directory: Path, response: httpx.Response, fallback: Id
) -> AbstractContextManager[tuple[Path, BinaryIO]]:
    name = file_name_from(response.headers.get("content-disposition"))
    return atomic_file(directory, safe_file_name(name, str(fallback)))


class SyncRunner:
    """Sends calls with an ``httpx.Client``."""

    def __init__(self, core: Core, http: httpx.Client, *, owns_http: bool) -> None:
        self.core = core
        self.http = http
        self.owns_http = owns_http
        self.sleep: Callable[[float], None] = time.sleep

    def derive(self, core: Core) -> "SyncRunner":
        runner = SyncRunner(core, self.http, owns_http=False)
        runner.sleep = self.sleep
        return runner

    def close(self) -> None:
        if self.owns_http:
            self.http.close()

    def send(self, call: Call[Any]) -> httpx.Response:
        """The successful response to ``call``, after the retries the policy allows."""
        attempt = 0
        while True:
            request = self.core.request(self.http, call)
            try:
                response = self.http.send(request, stream=call.stream)
            except httpx.TransportError as exc:
                raise self.core.transport_error(request, exc) from exc
            wait = self.core.retry.wait(call.method, response, attempt)
            if wait is None:
                break
            response.close()
            self.sleep(wait)
            attempt += 1
        if not response.is_success:
            try:
                response.read()
            finally:
                response.close()
            raise self.core.error(response)
        return response

    def run(self, call: Call[T]) -> T:
        return self.core.parse(call, self.send(call))

    def pages(self, call: Call[Page[M]]) -> Iterator[Page[M]]:
        next_call: Call[Page[M]] | None = call
        while next_call is not None:
            page = self.run(next_call)
            yield page
            next_call = _next_cursor(next_call, page)

    def save(self, call: Call[bytes], to: StrPath, fallback: Id) -> Path:
        directory = _directory(to)
        response = self.send(replace(call, stream=True))
        try:
            with _target(directory, response, fallback) as (path, file):
                for chunk in response.iter_bytes():
                    file.write(chunk)
        except httpx.TransportError as exc:
            raise self.core.transport_error(response.request, exc) from exc
        finally:
            response.close()
        return path


class AsyncRunner:
    """Sends calls with an ``httpx.AsyncClient`` (asyncio)."""

    def __init__(self, core: Core, http: httpx.AsyncClient, *, owns_http: bool) -> None:
        self.core = core
        self.http = http
        self.owns_http = owns_http
        self.sleep: Callable[[float], Awaitable[None]] = asyncio.sleep

    def derive(self, core: Core) -> "AsyncRunner":
        runner = AsyncRunner(core, self.http, owns_http=False)
        runner.sleep = self.sleep
        return runner

    async def close(self) -> None:
        if self.owns_http:
            await self.http.aclose()

    async def send(self, call: Call[Any]) -> httpx.Response:
        """The successful response to ``call``, after the retries the policy allows."""
        attempt = 0
        while True:
            request = self.core.request(self.http, call)
            try:
                response = await self.http.send(request, stream=call.stream)
            except httpx.TransportError as exc:
                raise self.core.transport_error(request, exc) from exc
            wait = self.core.retry.wait(call.method, response, attempt)
            if wait is None:
                break
            await response.aclose()
            await self.sleep(wait)
            attempt += 1
        if not response.is_success:
            try:
                await response.aread()
            finally:
                await response.aclose()
            raise self.core.error(response)
        return response

    async def run(self, call: Call[T]) -> T:
        return self.core.parse(call, await self.send(call))

    async def pages(self, call: Call[Page[M]]) -> AsyncIterator[Page[M]]:
        next_call: Call[Page[M]] | None = call
        while next_call is not None:
            page = await self.run(next_call)
            yield page
            next_call = _next_cursor(next_call, page)

    async def save(self, call: Call[bytes], to: StrPath, fallback: Id) -> Path:
        directory = _directory(to)
        response = await self.send(replace(call, stream=True))
        try:
            with _target(directory, response, fallback) as (path, file):
                async for chunk in response.aiter_bytes():
                    file.write(chunk)
        except httpx.TransportError as exc:
            raise self.core.transport_error(response.request, exc) from exc
        finally:
            await response.aclose()
        return path


# --- what a namespace's methods become on each client ---------------------------------------


class SyncListing(Generic[P, M]):
    """``client.<records>.list``: call it to iterate over every record, page after page, lazily;
    ``.page(...)`` gets one page (pass ``cursor=page.cursor`` for the next), ``.pages(...)``
    iterates over pages. All take the same filters."""

    def __init__(self, runner: SyncRunner, build: Callable[P, Call[Page[M]]]) -> None:
        self._runner = runner
        self._build = build

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> Iterator[M]:
        pages = self.pages(*args, **kwargs)
        return (record for page in pages for record in page.items)

    def pages(self, *args: P.args, **kwargs: P.kwargs) -> Iterator[Page[M]]:
        return self._runner.pages(self._build(*args, **kwargs))

    def page(self, *args: P.args, **kwargs: P.kwargs) -> Page[M]:
        return self._runner.run(self._build(*args, **kwargs))


class AsyncListing(Generic[P, M]):
    """``client.<records>.list`` on ``AsyncClient``: ``async for record in ...list(...)``;
    ``await ....page(...)`` for one page, ``async for page in ....pages(...)``."""

    def __init__(self, runner: AsyncRunner, build: Callable[P, Call[Page[M]]]) -> None:
        self._runner = runner
        self._build = build

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> AsyncIterator[M]:
        pages = self.pages(*args, **kwargs)

        async def records() -> AsyncIterator[M]:
            async for page in pages:
                for record in page.items:
                    yield record

        return records()

    def pages(self, *args: P.args, **kwargs: P.kwargs) -> AsyncIterator[Page[M]]:
        return self._runner.pages(self._build(*args, **kwargs))

    def page(self, *args: P.args, **kwargs: P.kwargs) -> Awaitable[Page[M]]:
        return self._runner.run(self._build(*args, **kwargs))


class SyncFile:
    """A file route: ``(id)`` gives the bytes; ``(id, to=directory)`` streams the file into
    ``directory`` under the server's file name made safe (the id when it has none) and gives
    the path."""

    def __init__(self, runner: SyncRunner, build: Callable[[Id], Call[bytes]]) -> None:
        self._runner = runner
        self._build = build

    @overload
    def __call__(self, id: Id, /, *, to: None = None) -> bytes: ...
    @overload
    def __call__(self, id: Id, /, *, to: StrPath) -> Path: ...
    def __call__(self, id: Id, /, *, to: StrPath | None = None) -> bytes | Path:
        call = self._build(id)
        if to is None:
            return self._runner.run(call)
        return self._runner.save(call, to, id)


class AsyncFile:
    """A file route on ``AsyncClient``: ``await (id)`` gives the bytes, ``await (id,
    to=directory)`` streams the file into ``directory`` and gives the path."""

    def __init__(self, runner: AsyncRunner, build: Callable[[Id], Call[bytes]]) -> None:
        self._runner = runner
        self._build = build

    @overload
    async def __call__(self, id: Id, /, *, to: None = None) -> bytes: ...
    @overload
    async def __call__(self, id: Id, /, *, to: StrPath) -> Path: ...
    async def __call__(self, id: Id, /, *, to: StrPath | None = None) -> bytes | Path:
        call = self._build(id)
        if to is None:
            return await self._runner.run(call)
        return await self._runner.save(call, to, id)
