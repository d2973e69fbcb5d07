"""The job interface: what the service asks of whoever runs syncs, deliveries and the tick.

Two runners implement it: ``InProcessRunner`` (SQLite, or PostgreSQL with
``UNIFIED_ATS_JOB_RUNNER=inprocess``) runs everything as tasks of the API process;
``ProcrastinateRunner`` (PostgreSQL) turns each into a procrastinate job run by
``unified-ats worker`` processes. Whichever runs it, a sync goes through the same engine and the
same store-level lease: at most one run of a connection, whoever asked.
"""

import uuid
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol


class JobKind(StrEnum):
    SYNC = "sync"
    """One connection's sync (and the follow-up it serves)."""
    DELIVER = "deliver"
    """Outbound webhooks: ``DeliveryWorker.run_once()`` until idle."""
    TICK = "tick"
    """Enqueues the connections due for their periodic sync."""
    RECOVER = "recover"
    """Gives the jobs of a dead worker back to the queue."""
    PRUNE = "prune"
    """Forgets finished jobs."""


@dataclass(frozen=True)
class JobCounts:
    kind: str
    queued: int
    running: int
    failed: int


class JobRunner(Protocol):
    name: str
    """``inprocess`` or ``procrastinate``."""

    async def enqueue_sync(
        self, connection_id: uuid.UUID, *, tenant_id: uuid.UUID, full: bool | None
    ) -> bool:
        """Ask for a sync of one connection. True: it starts (or is next to start). False: a
        sync of this connection is running or waiting; the request joined it (a full request
        makes the waiting one full)."""
        ...

    async def queued_behind(self, connection_id: uuid.UUID, tenant_id: uuid.UUID) -> None:
        """A caller that ran a sync itself found it queued behind a run (the lease's
        follow-up): make sure the request survives that run's holder dying."""
        ...

    async def sync_waiting(self, connection_id: uuid.UUID) -> bool:
        """A sync of this connection waits for its turn (the status shows ``queued``)."""
        ...

    async def counts(self) -> list[JobCounts]:
        """Queued, running and failed jobs per kind (``unified-ats jobs``)."""
        ...

    def start_in_api(self) -> None:
        """What the API process runs besides requests (the scheduler, deliveries), if any."""
        ...

    async def aclose(self) -> None: ...
