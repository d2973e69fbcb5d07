"""A vendor rate limiter shared by several server processes, kept in Redis.

Same contract as the in-process ``InMemoryRateLimiter``: for one key, one request at a time
(unless the rule is not ``serial``), starts spaced by ``min_interval``. A slot is a Redis lock
(``SET NX PX``, released only by its owner) plus the time of the last start; the lock expires
if a process dies holding it.
"""

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from redis.asyncio import Redis

from connectors import RateRule

# Release the lock only if we still own it (another process may have taken an expired one).
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  redis.call('set', KEYS[2], ARGV[2], 'PX', ARGV[3])
  return redis.call('del', KEYS[1])
end
return 0
"""


class RedisRateLimiter:
    def __init__(
        self,
        redis: Redis,
        *,
        prefix: str = "unified-ats:rate",
        lock_ttl: float = 60.0,
        poll: float = 0.02,
    ) -> None:
        self.redis = redis
        self.prefix = prefix
        self.lock_ttl = lock_ttl
        self.poll = poll
        self._release = redis.register_script(_RELEASE)

    @classmethod
    def from_url(cls, url: str) -> "RedisRateLimiter":
        return cls(Redis.from_url(url))

    @asynccontextmanager
    async def slot(self, rule: RateRule) -> AsyncIterator[None]:
        lock_key = f"{self.prefix}:{rule.key}:lock"
        last_key = f"{self.prefix}:{rule.key}:last"
        owner = uuid.uuid4().hex
        # The holder may be another process: poll Redis (an asyncio.Event cannot span processes).
        while not await self.redis.set(lock_key, owner, nx=True, px=int(self.lock_ttl * 1000)):  # noqa: ASYNC110
            await asyncio.sleep(self.poll)
        started: float | None = None
        released = False
        try:
            last = await self.redis.get(last_key)
            if last is not None:
                wait = float(last) + rule.min_interval - await self._now()
                if wait > 0:
                    await asyncio.sleep(wait)
            started = await self._now()
            if not rule.serial:  # only the starts are spaced: let the next one in now
                released = True
                await self._free(lock_key, last_key, owner, started, rule)
            yield
        finally:
            if not released:
                await self._free(lock_key, last_key, owner, started, rule)

    async def _free(
        self, lock_key: str, last_key: str, owner: str, started: float | None, rule: RateRule
    ) -> None:
        # The last start outlives the lock just long enough to space the next request.
        await self._release(
            keys=[lock_key, last_key],
            args=[
                owner,
                repr(started if started is not None else 0.0),
                max(1000, int(rule.min_interval * 2000)),
            ],
        )

    async def _now(self) -> float:
        # Redis's clock, so processes on different hosts agree on "one second".
        seconds, micros = await self.redis.time()
        return float(seconds) + micros / 1_000_000

    async def aclose(self) -> None:
        await self.redis.aclose()
