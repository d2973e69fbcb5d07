"""Welcome Kit enumeration with its documents fetched concurrently across pages: every
candidate and document exactly once, calls in flight bounded, request starts spaced when a
rate is set, a failing call mid-enumeration raised (never a shorter enumeration), and a 429's
Retry-After waited out."""

import asyncio
import itertools
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors.sdk.errors import VendorUnavailable
from connectors.sdk.http import RetryPolicy
from connectors.welcomekit import WelcomeKitConnector, WelcomeKitSettings
from tests.connectors.concurrency_probe import Fail, Probe
from tests.connectors.welcomekit.conftest import API_KEY, ORG, make_emulator
from tests.helpers import VirtualClock, no_sleep


def connector(
    probe: Probe, *, sleep: Any = no_sleep, clock: Any = None, **options: Any
) -> WelcomeKitConnector:
    settings = WelcomeKitSettings(api_key=API_KEY, organization_reference=ORG, **options)
    extra = {"clock": clock} if clock is not None else {}
    return WelcomeKitConnector(
        settings,
        transport=probe,
        sleep=sleep,
        retry=RetryPolicy(max_attempts=3, base_delay=0.01),
        **extra,
    )


async def enumerate_all(c: WelcomeKitConnector) -> list[dict[str, Any]]:
    async with c:
        return [
            {
                **r.candidate.model_dump(mode="json", exclude={"id", "modified_at"}),
                "files": [
                    a.model_dump(mode="json", exclude={"id", "modified_at"}) for a in r.attachments
                ],
            }
            async for page in c.iter_candidates()
            for r in page.records
        ]


def documents_requested(probe: Probe) -> list[str]:
    """Whose documents were asked for (first pages: a candidate's later pages follow)."""
    asked = []
    for url, times in probe.asked.items():
        parsed = httpx.URL(url)
        if parsed.path.endswith("/documents") and parsed.params.get("page") == "1":
            asked += [str(parsed.params["candidate_reference"])] * times
    return asked


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    size=st.integers(0, 50),
    jobs=st.integers(1, 4),
    per_page=st.integers(1, 12),
    document_concurrency=st.integers(1, 9),
    pages_ahead=st.integers(0, 4),
)
def test_every_candidate_and_document_once_whatever_the_concurrency(
    size: int, jobs: int, per_page: int, document_concurrency: int, pages_ahead: int
) -> None:
    emulator = make_emulator(size=size, jobs=jobs)
    org = emulator.organizations[ORG]
    sequential = Probe(emulator.app)
    concurrent = Probe(emulator.app, delay=0.0005)
    one_by_one = asyncio.run(
        enumerate_all(
            connector(sequential, per_page=per_page, document_concurrency=1, pages_ahead=0)
        )
    )
    overlapped = asyncio.run(
        enumerate_all(
            connector(
                concurrent,
                per_page=per_page,
                document_concurrency=document_concurrency,
                pages_ahead=pages_ahead,
            )
        )
    )
    ids = [c["remote_id"] for c in overlapped]
    assert len(ids) == len(set(ids)) == size
    assert set(ids) == set(org.candidates)
    # Same records, documents included, as one call at a time gives (but the fetch time).
    by_id = {c["remote_id"]: c for c in one_by_one}
    assert all(c == by_id[c["remote_id"]] for c in overlapped)
    # Each candidate's documents asked exactly once, within the budget.
    asked = documents_requested(concurrent)
    assert sorted(asked) == sorted(org.candidates)
    assert concurrent.peak.get("/documents", 0) <= document_concurrency
    document_ids = [
        a["remote_id"] for c in overlapped for a in c["files"] if ":document:" in a["remote_id"]
    ]
    assert len(document_ids) == len(set(document_ids))


async def test_documents_of_several_pages_overlap() -> None:
    emulator = make_emulator(size=60, jobs=1)
    probe = Probe(emulator.app, delay=0.002)
    records = await enumerate_all(
        connector(probe, per_page=5, document_concurrency=12, pages_ahead=3)
    )
    assert len(records) == 60
    # More calls in flight than one page holds: pages' documents overlap.
    assert 5 < probe.peak["/documents"] <= 12


async def test_request_starts_are_spaced_by_the_rate_while_calls_overlap() -> None:
    emulator = make_emulator(size=40, jobs=2)
    clock = VirtualClock()
    probe = Probe(emulator.app, clock=clock)
    records = await enumerate_all(
        connector(
            probe,
            clock=clock,
            sleep=clock.sleep,
            per_page=6,
            document_concurrency=8,
            max_requests_per_second=20,
        )
    )
    assert len(records) == 40
    listed = [t for t, kind in probe.starts if kind in ("/documents", "/candidates", "/jobs")]
    assert len(listed) > 40
    # Never more than 20 starts in any one-second window.
    for first, later in zip(listed, listed[20:], strict=False):
        assert later - first >= 1.0 - 1e-9
    assert all(b - a >= 0.05 - 1e-9 for a, b in itertools.pairwise(listed))


def failing_documents(reference: str, status: int = 500) -> Fail:
    def fail(request: httpx.Request, seen: int) -> httpx.Response | None:
        if request.url.path.endswith("/documents") and (
            request.url.params.get("candidate_reference") == reference
        ):
            return httpx.Response(
                status, json={"error": "server_error", "error_description": "boom"}
            )
        return None

    return fail


async def test_a_failing_documents_call_mid_enumeration_is_raised() -> None:
    emulator = make_emulator(size=45, jobs=2)
    victim = list(emulator.organizations[ORG].candidates)[30]
    probe = Probe(emulator.app, fail=failing_documents(victim))
    c = connector(probe, per_page=5, document_concurrency=6, pages_ahead=2)
    seen: list[str] = []
    with pytest.raises(VendorUnavailable):
        async with c:
            async for page in c.iter_candidates():
                seen += [r.candidate.remote_id for r in page.records]
    assert victim not in seen
    assert len(seen) < 45
    await asyncio.sleep(0)
    assert sum(probe.in_flight.values()) == 0  # nothing left running behind the error


async def test_a_failed_page_asks_for_no_more_of_its_documents() -> None:
    """Once a page's documents call has failed, the page cannot be yielded: its candidates not
    asked yet are not asked (the error is raised where the page is awaited)."""
    emulator = make_emulator(size=20, jobs=1)
    page = list(emulator.organizations[ORG].candidates)[:10]
    probe = Probe(emulator.app, fail=failing_documents(page[2]))
    c = connector(probe, per_page=10, document_concurrency=1, pages_ahead=1)
    with pytest.raises(VendorUnavailable):
        async with c:
            async for _ in c.iter_candidates():
                pass
    asked = documents_requested(probe)
    assert page[2] in asked
    assert not set(page[3:]) & set(asked)


async def test_a_failing_candidates_page_mid_enumeration_is_raised() -> None:
    emulator = make_emulator(size=45, jobs=1)

    def fail(request: httpx.Request, seen: int) -> httpx.Response | None:
        if request.url.path.endswith("/candidates") and request.url.params.get("page") == "4":
            return httpx.Response(503, json={"error": "unavailable"})
        return None

    c = connector(Probe(emulator.app, fail=fail), per_page=5, pages_ahead=3)
    seen = 0
    with pytest.raises(VendorUnavailable):
        async with c:
            async for page in c.iter_candidates():
                seen += len(page.records)
    assert seen <= 15


async def test_a_429_retry_after_is_waited_out() -> None:
    emulator = make_emulator(size=12, jobs=1)
    victim = list(emulator.organizations[ORG].candidates)[7]
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    def fail(request: httpx.Request, seen: int) -> httpx.Response | None:
        if seen == 0 and request.url.params.get("candidate_reference") == victim:
            return httpx.Response(
                429, headers={"Retry-After": "3"}, json={"error": "too_many_requests"}
            )
        return None

    probe = Probe(emulator.app, fail=fail)
    records = await enumerate_all(connector(probe, sleep=sleep, per_page=4))
    assert len(records) == 12
    assert 3.0 in slept
    assert documents_requested(probe).count(victim) == 2


def test_defaults_overlap_pages_and_documents() -> None:
    defaults = WelcomeKitSettings(api_key="k", organization_reference="o")
    assert defaults.document_concurrency >= 32 and defaults.pages_ahead >= 1
    assert defaults.max_requests_per_second is None  # Welcome Kit documents no limit


@pytest.mark.parametrize("document_concurrency", [8, 128, 300])
async def test_connections_cover_the_documents_calls_in_flight(document_concurrency: int) -> None:
    """Fewer connections than calls in flight would queue the calls on the pool instead."""
    settings = WelcomeKitSettings(
        api_key=API_KEY, organization_reference=ORG, document_concurrency=document_concurrency
    )
    async with WelcomeKitConnector(settings) as c:
        assert c.http_connections() >= document_concurrency + 1  # and a listing call beside
        assert c.http.client._transport.limits.max_connections == c.http_connections()  # type: ignore[attr-defined]
