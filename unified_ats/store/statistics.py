"""Planner statistics after a bulk write: PostgreSQL's ANALYZE, when a sync changed a table by
more than what makes autovacuum analyze it.

A table's statistics come from autovacuum, up to a minute after the change, or never where it
is off. Until then the planner guesses: after a first sync of 2,000 candidates it expected 4
rows for a list page and read all 1,500 of the connection's through a bitmap scan, then sorted
them (1.5 ms of server CPU), where the (connection_id, seq) index reads 50 (0.1 ms). PostgreSQL's
documentation asks for ANALYZE after a bulk load ("Populating a Database"); this runs it for
the tables that crossed autovacuum's own threshold, so a steady trickle of small syncs leaves
the analyzing to autovacuum.
"""

import logging
from collections.abc import Mapping

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

logger = logging.getLogger("unified_ats.store")

# autovacuum's defaults: autovacuum_analyze_threshold, autovacuum_analyze_scale_factor
ANALYZE_THRESHOLD = 50
ANALYZE_SCALE_FACTOR = 0.1


def needs_analyze(written: int, estimated_rows: float) -> bool:
    """Whether ``written`` rows change a table of ``estimated_rows`` (``pg_class.reltuples``,
    -1 when never analyzed) enough that autovacuum would analyze it."""
    return written > ANALYZE_THRESHOLD + ANALYZE_SCALE_FACTOR * max(estimated_rows, 0.0)


async def refresh_statistics(engine: AsyncEngine, written: Mapping[str, int]) -> list[str]:
    """ANALYZE the tables (names as in ``written``, our own table names) whose rows written
    cross the threshold; returns them. PostgreSQL only; a failure is logged, never raised: the
    data is written, and autovacuum catches up."""
    if engine.dialect.name != "postgresql":
        return []
    changed = {table: count for table, count in written.items() if count > ANALYZE_THRESHOLD}
    if not changed:
        return []
    analyzed: list[str] = []
    try:
        async with engine.connect() as connection:
            connection = await connection.execution_options(isolation_level="AUTOCOMMIT")
            for table, count in sorted(changed.items()):
                estimated = await connection.scalar(
                    text("SELECT reltuples FROM pg_class WHERE oid = to_regclass(:name)"),
                    {"name": table},
                )
                if estimated is None or not needs_analyze(count, float(estimated)):
                    continue
                quoted = engine.dialect.identifier_preparer.quote(table)
                await connection.execute(text(f"ANALYZE {quoted}"))
                analyzed.append(table)
    except Exception as exc:  # permissions, a lock timeout: autovacuum will do it
        logger.warning("could not refresh planner statistics: %s", type(exc).__name__)
    return analyzed
