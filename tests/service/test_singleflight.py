"""One load per key, shared; a caller that gives up does not take the others down with it."""

import asyncio

import pytest

from unified_ats.store.singleflight import SingleFlight


@pytest.mark.parametrize("method", ["do", "do_inline"])
async def test_concurrent_callers_share_one_load(method: str) -> None:
    flight: SingleFlight[int] = SingleFlight()
    share = getattr(flight, method)
    calls = 0

    async def load() -> int:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.05)
        return calls

    assert await asyncio.gather(*(share("k", load) for _ in range(10))) == [1] * 10
    assert await share("k", load) == 2  # a later call loads again


async def test_a_cancelled_caller_leaves_the_shared_load_to_the_others() -> None:
    flight: SingleFlight[str] = SingleFlight()
    release = asyncio.Event()

    async def load() -> str:
        await release.wait()
        return "fresh"

    first = asyncio.create_task(flight.do("k", load))
    second = asyncio.create_task(flight.do("k", load))
    await asyncio.sleep(0)
    first.cancel()  # the client of the first request disconnected
    with pytest.raises(asyncio.CancelledError):
        await first
    release.set()
    assert await second == "fresh"


async def test_a_failed_load_fails_every_waiter_and_is_retried_next_time() -> None:
    flight: SingleFlight[int] = SingleFlight()
    attempts = 0

    async def load() -> int:
        nonlocal attempts
        attempts += 1
        await asyncio.sleep(0.01)
        if attempts == 1:
            raise LookupError("vendor down")
        return 7

    results = await asyncio.gather(
        *(flight.do("k", load) for _ in range(3)), return_exceptions=True
    )
    assert all(isinstance(r, LookupError) for r in results)
    assert await flight.do("k", load) == 7


async def test_inline_load_whose_caller_is_cancelled_is_loaded_again_by_the_waiters() -> None:
    flight: SingleFlight[str] = SingleFlight()
    release = asyncio.Event()
    calls = 0

    async def load() -> str:
        nonlocal calls
        calls += 1
        await release.wait()
        return f"load {calls}"

    first = asyncio.create_task(flight.do_inline("k", load))
    await asyncio.sleep(0)
    waiters = [asyncio.create_task(flight.do_inline("k", load)) for _ in range(3)]
    await asyncio.sleep(0)
    first.cancel()  # the client of the request running the load disconnected
    with pytest.raises(asyncio.CancelledError):
        await first
    for _ in range(3):
        await asyncio.sleep(0)  # the waiters wake up: one loads, the others join it
    release.set()
    assert await asyncio.gather(*waiters) == ["load 2"] * 3  # one of them loaded, once


async def test_inline_load_failure_reaches_every_waiter_and_a_cancelled_waiter_alone() -> None:
    flight: SingleFlight[int] = SingleFlight()
    release = asyncio.Event()

    async def load() -> int:
        await release.wait()
        raise LookupError("store down")

    first = asyncio.create_task(flight.do_inline("k", load))
    await asyncio.sleep(0)
    waiters = [asyncio.create_task(flight.do_inline("k", load)) for _ in range(3)]
    await asyncio.sleep(0)
    waiters[0].cancel()  # a waiter giving up leaves the load and the others alone
    release.set()
    results = await asyncio.gather(first, *waiters, return_exceptions=True)
    assert isinstance(results[1], asyncio.CancelledError)
    assert all(isinstance(r, LookupError) for r in (results[0], *results[2:]))
