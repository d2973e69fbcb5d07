"""Planner statistics after bulk syncs (PostgreSQL): a sync that changes a table by more than
autovacuum's analyze threshold analyzes it at once, so the first reads after a large sync get
the index plans, not the guesses of an empty table's statistics."""

from typing import Any

import pytest
from sqlalchemy import text

from connectors.flatchr.emulator.data import generate_applicants
from tests.service.conftest import FLATCHR_COMPANY, Stack
from unified_ats.store.statistics import refresh_statistics

pytestmark = pytest.mark.postgres

LIST_PAGE = (
    "EXPLAIN (FORMAT JSON) SELECT seq, served FROM candidates WHERE connection_id = :c"
    " AND seq > 0 AND remote_was_deleted IS FALSE ORDER BY seq LIMIT 50"
)


async def _last_analyze(stack: Stack, table: str) -> object:
    async with stack.services.engine.connect() as connection:
        return await connection.scalar(
            text("SELECT last_analyze FROM pg_stat_user_tables WHERE relname = :t"), {"t": table}
        )


def _node_types(plan: dict) -> set[str]:
    found = {plan["Node Type"]}
    for child in plan.get("Plans", []):
        found |= _node_types(child)
    return found


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_a_small_sync_leaves_statistics_to_autovacuum(stack: Stack) -> None:
    await stack.connect_flatchr()  # 30 candidates: under autovacuum's threshold of 50
    assert await _last_analyze(stack, "candidates") is None


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_a_bulk_sync_analyzes_what_it_changed_and_list_pages_use_the_index(
    stack: Stack,
) -> None:
    generate_applicants(stack.flatchr.companies[FLATCHR_COMPANY], size=400, seed=3)
    created = await stack.connect_flatchr()
    assert await _last_analyze(stack, "candidates") is not None
    assert await _last_analyze(stack, "jobs") is None  # nothing written there
    connection = await stack.services.accounts.connection_for_token(
        stack.tenant, created["connector_token"]
    )
    assert connection is not None
    async with stack.services.engine.connect() as db:
        plan = (await db.execute(text(LIST_PAGE), {"c": connection.id})).scalar_one()
    nodes = _node_types(plan[0]["Plan"])
    assert "Sort" not in nodes and "Bitmap Heap Scan" not in nodes, nodes


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_statistics_failures_never_fail_the_caller(stack: Stack) -> None:
    """A table that is not there (or ANALYZE refused) is skipped and logged."""
    assert await refresh_statistics(stack.services.engine, {"no_such_table": 10_000}) == []


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_a_first_bulk_sync_analyzes_as_it_fills_and_before_it_marks_deletions(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Per-page lookups into tables a first sync is filling, and the deletion marking's
    anti-join against the run's seen ids, are planned on fresh statistics (without them both
    grew with the square of the run's size)."""
    from unified_ats.store import statistics, sync_runs

    calls: list[tuple[str, dict[str, int], list[str]]] = []

    def spying(where: str) -> Any:
        real = statistics.refresh_statistics

        async def refresh(engine: Any, written: Any, **options: Any) -> list[str]:
            analyzed = await real(engine, written, **options)
            calls.append((where, dict(written), analyzed))
            return analyzed

        return refresh

    monkeypatch.setattr(statistics, "refresh_statistics", spying("during"))
    monkeypatch.setattr(sync_runs, "refresh_statistics", spying("seen"))
    generate_applicants(stack.flatchr.companies[FLATCHR_COMPANY], size=2_400, seed=5)
    await stack.connect_flatchr()
    during = [analyzed for where, _, analyzed in calls if where == "during"]
    assert sum("candidates" in a for a in during) >= 2, calls  # at 1,000 and 2,000 rows
    seen = [(written, analyzed) for where, written, analyzed in calls if where == "seen"]
    assert seen and seen[-1][0]["sync_seen"] >= 2_400 and seen[-1][1] == ["sync_seen"]
