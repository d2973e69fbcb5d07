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
from collections.abc import Callable, Mapping

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

logger = logging.getLogger("unified_ats.store")

# autovacuum's defaults: autovacuum_analyze_threshold, autovacuum_analyze_scale_factor
ANALYZE_THRESHOLD = 50
ANALYZE_SCALE_FACTOR = 0.1
GROWTH_MINIMUM = 1_000
"""During a run, a table is analyzed again once this many rows were written since."""


def needs_analyze(written: int, estimated_rows: float) -> bool:
    """Whether ``written`` rows change a table of ``estimated_rows`` (``pg_class.reltuples``,
    -1 when never analyzed) enough that autovacuum would analyze it."""
    return written > ANALYZE_THRESHOLD + ANALYZE_SCALE_FACTOR * max(estimated_rows, 0.0)


def doubled(written: int, estimated_rows: float) -> bool:
    """Whether ``written`` rows at least double a table of ``estimated_rows`` (and reach
    GROWTH_MINIMUM): analyzing on that rule, a run that fills a table analyzes it about
    log2(rows / GROWTH_MINIMUM) times."""
    return written >= max(GROWTH_MINIMUM, estimated_rows)


async def refresh_statistics(
    engine: AsyncEngine,
    written: Mapping[str, int],
    *,
    rule: Callable[[int, float], bool] = needs_analyze,
    estimates: dict[str, float] | None = None,
) -> list[str]:
    """ANALYZE the tables (names as in ``written``, our own table names) whose rows written
    cross the threshold (``rule``); returns them, and fills ``estimates`` with the row counts
    the statistics held before. PostgreSQL only; a failure is logged, never raised: the data
    is written, and autovacuum catches up."""
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
                if estimated is None:
                    continue
                if estimates is not None:
                    estimates[table] = max(float(estimated), 0.0)
                if not rule(count, float(estimated)):
                    continue
                quoted = engine.dialect.identifier_preparer.quote(table)
                await connection.execute(text(f"ANALYZE {quoted}"))
                analyzed.append(table)
    except Exception as exc:  # permissions, a lock timeout: autovacuum will do it
        logger.warning("could not refresh planner statistics: %s", type(exc).__name__)
    return analyzed


class GrowthWatch:
    """Statistics kept current while one run fills tables, not only when it ends.

    A first sync into empty tables ran its per-page lookups (a page's remote ids among the
    connection's rows) on plans made for empty tables: the connection's rows scanned and
    compared with each of the page's 500 ids, so each page cost more than the one before (200
    ms a page at 10,000 candidates, quadratic in the run). Analyzing each time a table's rows
    written in this run double what its statistics counted keeps the index plan at a cost of
    a few ANALYZEs per run; a table far larger than the run's writes is left alone.
    """

    def __init__(self) -> None:
        self._written_at: dict[str, int] = {}  # the run's rows written when last checked
        self._rows: dict[str, float] = {}  # what the statistics counted then

    def due(self, written: Mapping[str, int]) -> dict[str, int]:
        """Rows written since the last check, for the tables worth checking now."""
        since = {table: n - self._written_at.get(table, 0) for table, n in written.items()}
        return {t: n for t, n in since.items() if doubled(n, self._rows.get(t, 0.0))}

    async def after_page(self, engine: AsyncEngine, written: Mapping[str, int]) -> list[str]:
        """ANALYZE what doubled (PostgreSQL only); returns the tables analyzed."""
        due = self.due(written)
        if not due or engine.dialect.name != "postgresql":
            return []
        estimates: dict[str, float] = {}
        analyzed = await refresh_statistics(engine, due, rule=doubled, estimates=estimates)
        self.checked(written, due, estimates, analyzed)
        return analyzed

    def checked(
        self,
        written: Mapping[str, int],
        due: Mapping[str, int],
        estimates: Mapping[str, float],
        analyzed: list[str],
    ) -> None:
        """Remember a check: the statistics now count what they did plus, where analyzed, the
        rows written since."""
        for table, since in due.items():
            self._written_at[table] = written[table]
            self._rows[table] = estimates.get(table, 0.0) + (since if table in analyzed else 0)
