"""Fairness between tenants: one with 1,000 connections cannot starve one with 1.

Two rules, both applied by the PostgreSQL runner:

- **Priority by tenant load.** Every sync job is enqueued with ``priority = -n``, ``n`` being how
  many sync jobs of its tenant are already waiting or running. procrastinate fetches the highest
  priority first (then the oldest), so a tenant's first outstanding sync always goes before
  another tenant's tenth: the queue is served round-robin across tenants, whoever enqueued
  first or most. Every 5 s the waiting jobs' priorities are brought up to date (their rank
  among their tenant's outstanding jobs, ``ProcrastinateRunner.rebalance``): as a large
  tenant's jobs finish, its later ones move up, so its tail is not starved either.
- **A cap per tenant for the periodic tick.** The tick enqueues at most ``sync_tenant_cap``
  outstanding syncs per tenant, interleaving tenants; the rest of a large tenant's due
  connections wait for the next tick. The queue never holds thousands of one tenant's jobs.
"""

import uuid
from collections import Counter
from collections.abc import Iterable, Mapping

MAX_PENALTY = 100_000


def priority_for(outstanding: int) -> int:
    """The priority of a tenant's next sync job, given its jobs already waiting or running."""
    return -min(max(outstanding, 0), MAX_PENALTY)


def round_robin(
    due: Iterable[tuple[uuid.UUID, uuid.UUID]],
    outstanding: Mapping[uuid.UUID, int],
    *,
    cap: int,
) -> list[tuple[uuid.UUID, uuid.UUID, int]]:
    """Pick due ``(tenant, connection)`` pairs to enqueue: tenants interleaved (one connection
    of each in turn), at most ``cap`` outstanding per tenant. Returns ``(tenant, connection,
    priority)`` in enqueue order."""
    queues: dict[uuid.UUID, list[uuid.UUID]] = {}
    for tenant, connection in due:
        queues.setdefault(tenant, []).append(connection)
    load: Counter[uuid.UUID] = Counter({t: outstanding.get(t, 0) for t in queues})
    picked: list[tuple[uuid.UUID, uuid.UUID, int]] = []
    position = dict.fromkeys(queues, 0)
    while True:
        progressed = False
        for tenant, connections in queues.items():
            if position[tenant] >= len(connections) or load[tenant] >= cap:
                continue
            picked.append((tenant, connections[position[tenant]], priority_for(load[tenant])))
            position[tenant] += 1
            load[tenant] += 1
            progressed = True
        if not progressed:
            return picked
