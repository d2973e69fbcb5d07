"""``Idempotency-Key``s: the same key with the same request gets the first answer, and the write
behind it reaches the vendor at most once (kept 24 h).

A key is claimed by inserting its row (the primary key makes the claim atomic on SQLite and
PostgreSQL alike), so two processes racing on one key cannot both call the vendor.
"""

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from unified_ats.security import CredentialCipher
from unified_ats.store.tables import IdempotencyRecord, utcnow

KEEP = timedelta(hours=24)
SWEEP_EVERY = timedelta(minutes=10)
"""Expired keys are deleted this often (by the process that claims a key then), so the table
holds about a day of keys, whatever the traffic."""
LOCK = timedelta(minutes=5)
"""A pending key whose request died (its process was killed) is free again after this."""
PENDING, DONE, UNKNOWN = "pending", "done", "unknown"


class KeyReused(Exception):
    """The key was first used with another request: a client bug, never replayed."""


class KeyInFlight(Exception):
    """The first request with this key is still running."""


@dataclass(frozen=True)
class Replay:
    status_code: int
    body: bytes


@dataclass(frozen=True)
class Claim:
    scope: str
    key_hash: str
    outcome_unknown: bool
    """A previous attempt failed without knowing whether the vendor wrote: look it up first."""


def scope_of(connection_id: uuid.UUID | None, tenant_id: uuid.UUID) -> str:
    return f"connection:{connection_id}" if connection_id else f"tenant:{tenant_id}"


def fingerprint(route: str, body: bytes) -> str:
    return hashlib.sha256(route.encode() + b"\x00" + body).hexdigest()


class IdempotencyKeys:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], cipher: CredentialCipher):
        self.sessions = sessions
        self.cipher = cipher
        self._swept_at: datetime | None = None

    async def claim(self, scope: str, key: str, print_: str) -> Claim | Replay:
        """Claim ``key`` for this request, or the answer it already got."""
        if self._swept_at is None or utcnow() - self._swept_at > SWEEP_EVERY:
            self._swept_at = utcnow()
            await self.sweep()
        key_hash = hashlib.sha256(key.encode()).hexdigest()
        for _ in range(3):
            now = utcnow()
            try:
                async with self.sessions.begin() as session:
                    session.add(
                        IdempotencyRecord(
                            scope=scope,
                            key_hash=key_hash,
                            fingerprint=print_,
                            state=PENDING,
                            created_at=now,
                            locked_until=now + LOCK,
                            expires_at=now + KEEP,
                        )
                    )
                return Claim(scope, key_hash, outcome_unknown=False)
            except IntegrityError:
                pass
            taken = await self._existing(scope, key_hash, print_, now)
            if taken is not None:
                return taken
        raise KeyInFlight()

    async def _existing(
        self, scope: str, key_hash: str, print_: str, now: datetime
    ) -> Claim | Replay | None:
        async with self.sessions.begin() as session:
            row = await session.get(IdempotencyRecord, (scope, key_hash), with_for_update=True)
            if row is None:
                return None  # expired and swept meanwhile: claim again
            if row.expires_at <= now:
                await session.delete(row)
                return None
            if row.fingerprint != print_:
                raise KeyReused()
            if row.state == DONE and row.status_code is not None:
                body = self.cipher.decrypt(row.response_encrypted or b"")
                return Replay(row.status_code, body)
            if row.state == PENDING and row.locked_until > now:
                raise KeyInFlight()
            # An unknown outcome, or a pending request that died: this request takes over, and
            # looks the record up before writing again.
            taken = await session.execute(
                update(IdempotencyRecord)
                .where(
                    IdempotencyRecord.scope == scope,
                    IdempotencyRecord.key_hash == key_hash,
                    IdempotencyRecord.state == row.state,
                    IdempotencyRecord.locked_until == row.locked_until,
                )
                .values(state=PENDING, locked_until=now + LOCK)
            )
            if taken.rowcount != 1:  # type: ignore[attr-defined]
                raise KeyInFlight()
            return Claim(scope, key_hash, outcome_unknown=True)

    async def finish(self, claim: Claim, status_code: int, body: bytes) -> None:
        async with self.sessions.begin() as session:
            await session.execute(
                update(IdempotencyRecord)
                .where(
                    IdempotencyRecord.scope == claim.scope,
                    IdempotencyRecord.key_hash == claim.key_hash,
                )
                .values(
                    state=DONE,
                    status_code=status_code,
                    response_encrypted=self.cipher.encrypt(body),
                )
            )

    async def release(self, claim: Claim, *, outcome_unknown: bool) -> None:
        """The request failed. A definite failure frees the key (a retry runs again); an unknown
        outcome keeps it, marked, so the retry looks the record up before writing."""
        async with self.sessions.begin() as session:
            where = (
                IdempotencyRecord.scope == claim.scope,
                IdempotencyRecord.key_hash == claim.key_hash,
            )
            if outcome_unknown:
                await session.execute(update(IdempotencyRecord).where(*where).values(state=UNKNOWN))
            else:
                await session.execute(delete(IdempotencyRecord).where(*where))

    async def sweep(self) -> int:
        async with self.sessions.begin() as session:
            result = await session.execute(
                delete(IdempotencyRecord).where(IdempotencyRecord.expires_at <= utcnow())
            )
            return int(result.rowcount)  # type: ignore[attr-defined]

    async def get_state(self, scope: str, key: str) -> str | None:
        """For tests and operators: the state of a key."""
        key_hash = hashlib.sha256(key.encode()).hexdigest()
        async with self.sessions() as session:
            state: str | None = await session.scalar(
                select(IdempotencyRecord.state).where(
                    IdempotencyRecord.scope == scope, IdempotencyRecord.key_hash == key_hash
                )
            )
            return state
