"""Coalescing of concurrent loads: one load per key at a time, its result shared by every caller
that asked meanwhile (no thundering herd on the store or the vendor).

``do`` runs the load as its own task, shielded from its callers: a client that disconnects (its
request cancelled) neither cancels the load for the others nor leaves them a CancelledError.
``do_inline`` is for loads cheap enough to run twice (a read from the store): the first caller
runs it itself, without a task (a task per read cost more than the read); if that caller is
cancelled, the callers waiting on it load again instead.
"""

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

T = TypeVar("T")


class _Abandoned(Exception):
    """The caller running an inline load was cancelled: its waiters load again."""


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

    async def do_inline(self, key: Hashable, load: Callable[[], Awaitable[T]]) -> T:
        while (running := self._inflight.get(key)) is not None:
            try:
                return await asyncio.shield(running)
            except _Abandoned:
                continue  # its caller went away: load again (or join whoever did first)
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._inflight[key] = future
        try:
            result = await load()
        except asyncio.CancelledError:
            future.set_exception(_Abandoned())
            raise
        except BaseException as exc:
            future.set_exception(exc)
            raise
        else:
            future.set_result(result)
            return result
        finally:
            if self._inflight.get(key) is future:
                del self._inflight[key]
            if future.done() and not future.cancelled():
                future.exception()  # retrieved: every waiter re-raises it itself

    def _finished(self, key: Hashable, done: asyncio.Future[T]) -> None:
        if self._inflight.get(key) is done:
            del self._inflight[key]
        if not done.cancelled():
            done.exception()  # retrieved: every caller that still waits re-raises it itself
