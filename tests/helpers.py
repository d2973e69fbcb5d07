"""Test helpers shared across suites."""

import asyncio


class VirtualClock:
    """A monotonic clock whose sleeps advance time instantly (rate-limit tests without waiting)."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += max(0.0, seconds)
        await asyncio.sleep(0)


async def no_sleep(seconds: float) -> None:
    await asyncio.sleep(0)
