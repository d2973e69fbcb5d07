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


def over_emulator(connector_class, settings, emulator, **kwargs):  # type: ignore[no-untyped-def]
    """A connector wired to an emulator in-process, with instant retries (the tests' default)."""
    from connectors.sdk.emulation import EmulatorTransport
    from connectors.sdk.http import RetryPolicy

    kwargs.setdefault("sleep", no_sleep)
    kwargs.setdefault("retry", RetryPolicy(max_attempts=3, base_delay=0.01))
    return connector_class(settings, transport=EmulatorTransport(emulator.app), **kwargs)
