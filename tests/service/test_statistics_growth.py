"""When a sync re-analyzes the tables it is filling (store.statistics.GrowthWatch): each time
its writes double what the statistics count, so a handful of times per run at most."""

import math

from hypothesis import given
from hypothesis import strategies as st

from unified_ats.store.statistics import GROWTH_MINIMUM, GrowthWatch, doubled


@given(
    existing=st.integers(min_value=0, max_value=5_000_000),
    page=st.integers(min_value=1, max_value=2_000),
    pages=st.integers(min_value=1, max_value=400),
)
def test_a_run_analyzes_a_table_each_time_it_doubles(existing: int, page: int, pages: int) -> None:
    """Simulated against a table that already holds ``existing`` rows: a run writing ``pages``
    pages analyzes it only when its writes reach the rows the statistics count, so about
    log2 times for an empty table, never for one far larger than the run."""
    watch = GrowthWatch()
    estimated = float(existing)
    analyses = 0
    for n in range(1, pages + 1):
        written = {"candidates": n * page}
        due = watch.due(written)
        analyzed = [t for t, since in due.items() if doubled(since, estimated)]
        watch.checked(written, due, {"candidates": estimated}, analyzed)
        if analyzed:
            analyses += 1
            estimated += due["candidates"]
        # nothing left unanalyzed that doubled the table
        assert (
            n * page - watch._written_at.get("candidates", 0)
            < max(GROWTH_MINIMUM, estimated) + page
        )
    total = pages * page
    if total >= max(GROWTH_MINIMUM, existing) + page:
        assert analyses >= 1
    bound = math.log2(max(total, GROWTH_MINIMUM) / GROWTH_MINIMUM) + 2
    assert analyses <= bound
    if total < max(GROWTH_MINIMUM, existing):
        assert analyses == 0  # the run never doubled the table
