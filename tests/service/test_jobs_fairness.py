"""Fairness rules, without a database: the tick interleaves tenants under a per-tenant cap."""

import uuid

from unified_ats.jobs.fairness import priority_for, round_robin


def test_the_tick_interleaves_tenants_and_caps_each() -> None:
    big, small, medium = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    due = [(big, uuid.uuid4()) for _ in range(1000)]
    due += [(medium, uuid.uuid4()) for _ in range(3)]
    due.append((small, uuid.uuid4()))
    picked = round_robin(due, {medium: 1}, cap=5)
    tenants = [tenant for tenant, _, _ in picked]
    assert tenants.count(big) == 5 and tenants.count(medium) == 3 and tenants.count(small) == 1
    # The first round holds one of each tenant: the small one is never behind the big one's 1,000.
    assert set(tenants[:3]) == {big, medium, small}
    assert tenants.index(small) < 3
    # Priorities follow each tenant's load (medium already had one outstanding).
    first = {tenant: priority for tenant, _, priority in picked[:3]}
    assert first == {big: 0, small: 0, medium: -1}


def test_a_tenant_at_its_cap_gets_nothing_more() -> None:
    tenant = uuid.uuid4()
    assert round_robin([(tenant, uuid.uuid4())], {tenant: 5}, cap=5) == []


def test_priority_falls_with_load_and_is_bounded() -> None:
    assert priority_for(0) == 0
    assert priority_for(7) == -7
    assert priority_for(10**9) == priority_for(10**6) < 0
