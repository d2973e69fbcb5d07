"""viasto enumeration with projects walked concurrently and their pages fetched within one
budget of pages in flight: every candidate exactly once, the budget held, request starts
spaced when a rate is set, a failing page mid-enumeration raised (never a shorter
enumeration), and a 429's Retry-After waited out."""

import asyncio
import itertools
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors.sdk.errors import VendorUnavailable
from connectors.sdk.http import RetryPolicy
from connectors.viasto import ViastoConnector, ViastoSettings
from tests.connectors.concurrency_probe import Probe
from tests.connectors.viasto.conftest import BASE, TOKEN, make_emulator
from tests.helpers import VirtualClock, no_sleep


def connector(
    probe: Probe, *, sleep: Any = no_sleep, clock: Any = None, **options: Any
) -> ViastoConnector:
    settings = ViastoSettings(base_url=BASE, company_id="4", token=TOKEN, **options)
    extra = {"clock": clock} if clock is not None else {}
    return ViastoConnector(
        settings,
        transport=probe,
        sleep=sleep,
        retry=RetryPolicy(max_attempts=3, base_delay=0.01),
        **extra,
    )


async def remote_ids(c: ViastoConnector) -> list[str]:
    async with c:
        return [r.candidate.remote_id async for page in c.iter_candidates() for r in page.records]


def expected_ids(emulator: Any) -> set[str]:
    return {f"{p}/{c}" for p, cands in emulator.companies[4].candidates.items() for c in cands}


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    projects=st.integers(1, 4),
    per_project=st.integers(0, 30),
    page_size=st.integers(1, 7),
    pages=st.integers(1, 6),
)
def test_every_candidate_once_whatever_the_concurrency(
    projects: int, per_project: int, page_size: int, pages: int
) -> None:
    emulator = make_emulator(projects=projects, per_project=per_project)
    probe = Probe(emulator.app, delay=0.0005)
    ids = asyncio.run(remote_ids(connector(probe, page_size=page_size, max_concurrent_pages=pages)))
    assert len(ids) == len(set(ids))
    assert set(ids) == expected_ids(emulator)
    assert probe.peak.get("/candidates", 0) <= pages


async def test_projects_are_paged_concurrently_within_the_budget() -> None:
    emulator = make_emulator(projects=4, per_project=20)
    probe = Probe(emulator.app, delay=0.002)
    ids = await remote_ids(connector(probe, page_size=3, max_concurrent_pages=4))
    assert len(ids) == 80
    assert probe.peak["/candidates"] == 4
    # First pages of the projects overlap too: no project waits for another to finish.
    first_pages = [u for u in probe.asked if "/candidates/" in u and "page=1&" in u]
    assert len(first_pages) == 4


async def test_request_starts_are_spaced_by_the_rate_while_pages_overlap() -> None:
    emulator = make_emulator(projects=3, per_project=15)
    clock = VirtualClock()
    probe = Probe(emulator.app, clock=clock)
    ids = await remote_ids(
        connector(
            probe,
            clock=clock,
            sleep=clock.sleep,
            page_size=2,
            max_concurrent_pages=4,
            max_requests_per_second=10,
        )
    )
    assert len(ids) == 45
    listed = [t for t, kind in probe.starts if kind in ("/candidates", "/projects")]
    assert len(listed) > 20
    for first, later in zip(listed, listed[10:], strict=False):
        assert later - first >= 1.0 - 1e-9
    assert all(b - a >= 0.1 - 1e-9 for a, b in itertools.pairwise(listed))


async def test_a_failing_page_mid_enumeration_is_raised() -> None:
    emulator = make_emulator(projects=3, per_project=20)
    victim = sorted(emulator.companies[4].candidates)[1]

    def fail(request: httpx.Request, seen: int) -> httpx.Response | None:
        if f"/projects/{victim}/candidates/" in request.url.path and (
            request.url.params.get("page") == "3"
        ):
            return httpx.Response(500, json={"detail": "boom"})
        return None

    c = connector(Probe(emulator.app, fail=fail), page_size=4, max_concurrent_pages=3)
    seen: list[str] = []
    with pytest.raises(VendorUnavailable):
        async with c:
            async for page in c.iter_candidates():
                seen += [r.candidate.remote_id for r in page.records]
    assert len(seen) < 60


async def test_a_429_retry_after_is_waited_out() -> None:
    emulator = make_emulator(projects=2, per_project=9)
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    def fail(request: httpx.Request, seen: int) -> httpx.Response | None:
        if (
            seen == 0
            and "/candidates/" in request.url.path
            and request.url.params.get("page") == "2"
        ):
            return httpx.Response(429, headers={"Retry-After": "2"}, json={"detail": "slow down"})
        return None

    probe = Probe(emulator.app, fail=fail)
    ids = await remote_ids(connector(probe, sleep=sleep, page_size=4, max_concurrent_pages=4))
    assert set(ids) == expected_ids(emulator) and len(ids) == 18
    assert slept.count(2.0) == 2  # page 2 of each project
