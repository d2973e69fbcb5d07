"""The Redis rate limiter: one vendor limit shared by several processes (here: two clients)."""

import asyncio
import itertools
import os
import time
import uuid

import pytest
from redis.asyncio import Redis

from connectors import RateRule
from unified_ats.redis_limiter import RedisRateLimiter

REDIS_URL = os.environ.get("UNIFIED_ATS_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture
async def redis_url() -> str:
    client = Redis.from_url(REDIS_URL)
    try:
        await client.ping()
    except Exception as exc:
        message = f"Redis at {REDIS_URL} is not available ({type(exc).__name__})"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{message}; Redis tests must run under CI")
        pytest.skip(message)
    finally:
        await client.aclose()
    return REDIS_URL


async def _calls_from_two_processes(
    redis_url: str, rule: RateRule, *, calls: int, hold: float
) -> tuple[list[float], int]:
    """``calls`` requests, alternating between two limiters with their own connections (two
    server processes), each holding its slot ``hold`` seconds: their sorted start times and
    the most that ran at once."""
    first, second = RedisRateLimiter.from_url(redis_url), RedisRateLimiter.from_url(redis_url)
    starts: list[float] = []
    active = 0
    peak = 0

    async def call(limiter: RedisRateLimiter) -> None:
        nonlocal active, peak
        async with limiter.slot(rule):
            starts.append(time.monotonic())
            active += 1
            peak = max(peak, active)
            await asyncio.sleep(hold)
            active -= 1

    try:
        await asyncio.gather(*(call(first if i % 2 else second) for i in range(calls)))
    finally:
        await first.aclose()
        await second.aclose()
    return sorted(starts), peak


async def test_two_processes_share_one_slot_and_its_spacing(redis_url: str) -> None:
    rule = RateRule(key=f"test:{uuid.uuid4().hex}", min_interval=0.2)
    starts, peak = await _calls_from_two_processes(redis_url, rule, calls=6, hold=0.01)
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    assert peak == 1
    assert min(gaps) >= 0.19  # spaced across both "processes"


async def test_a_dead_holders_lock_expires(redis_url: str) -> None:
    limiter = RedisRateLimiter(Redis.from_url(redis_url), lock_ttl=0.3)
    rule = RateRule(key=f"test:{uuid.uuid4().hex}", min_interval=0.0)
    await limiter.redis.set(f"{limiter.prefix}:{rule.key}:lock", "crashed-process", px=300)
    started = time.monotonic()
    try:
        async with limiter.slot(rule):
            waited = time.monotonic() - started
    finally:
        await limiter.aclose()
    assert 0.2 <= waited < 2.0


async def test_a_rule_that_is_not_serial_spaces_starts_and_lets_calls_overlap(
    redis_url: str,
) -> None:
    rule = RateRule(key=f"test:{uuid.uuid4().hex}", min_interval=0.05, serial=False)
    # each call outlasts the spacing: the next must start without waiting for it
    starts, peak = await _calls_from_two_processes(redis_url, rule, calls=4, hold=0.3)
    assert peak >= 2
    assert min(b - a for a, b in itertools.pairwise(starts)) >= 0.045
