"""viasto: mapping against pydantic validation, and concurrent against sequential page fetching
over the emulator with injected latency. Same run, ratios printed.

    uv run python -m bench.viasto [candidates_per_project]

Targets: mapping <= 2x validation; concurrent paging >= 3x faster than sequential.
"""

import asyncio
import random
import sys
import time
import uuid
from datetime import UTC, datetime

from bench.common import best_of_each, report
from connectors.sdk.base import IdScope, MappingContext
from connectors.sdk.emulation import EmulatorTransport
from connectors.sdk.normalize import phone_cache_clear
from connectors.viasto import ViastoConnector, ViastoSettings
from connectors.viasto.emulator import ViastoEmulator
from connectors.viasto.mapping import map_candidate
from schemas import Application, Attachment, Candidate

TOKEN = "f" * 40


def varied_phone(rng: random.Random, given: str) -> str:
    """A number of its own in the form the emulator drew (``+49 30 ...``, ``030 ...``)."""
    if not given:
        return given
    if given.startswith("+"):
        return f"+49 30 {rng.randrange(10**7):07d}"
    return f"030 {rng.randrange(10**8):08d}"


def mapping(per_project: int) -> tuple[list[tuple[str, str]], float]:
    """Report rows, and warm mapping time over validation time."""
    emulator = ViastoEmulator()
    company = emulator.add_company(
        company_id=4, name="ACME GmbH", token=TOKEN, projects=4, candidates_per_project=per_project
    )
    # The emulator draws phones from three values: each candidate gets its own number here (same
    # forms), so the cold run parses one number per candidate, as a first sync does.
    rng = random.Random(7)
    payloads = [
        {**payload, "phone": varied_phone(rng, payload["phone"])}
        for payload in (
            emulator.render(4, c, TOKEN) for p in company.candidates.values() for c in p.values()
        )
    ]
    ctx = MappingContext(
        ids=IdScope(uuid.uuid4()),
        observed_at=datetime.now(UTC),
        company_name="ACME GmbH",
        default_phone_region="DE",
    )
    records = [map_candidate(p, ctx, project_name="Sales") for p in payloads]
    candidates = [r.candidate.model_dump(mode="json") for r in records]
    attachments = [a.model_dump(mode="json") for r in records for a in r.attachments]
    applications = [a.model_dump(mode="json") for r in records for a in r.applications]

    def cold() -> None:
        phone_cache_clear()
        for payload in payloads:
            map_candidate(payload, ctx, project_name="Sales")

    def warm() -> None:
        for payload in payloads:
            map_candidate(payload, ctx, project_name="Sales")

    def validation() -> None:
        for c in candidates:
            Candidate.model_validate(c)
        for a in attachments:
            Attachment.model_validate(a)
        for a in applications:
            Application.model_validate(a)

    n = len(payloads)
    c, w, v = best_of_each((cold, warm, validation))
    return [
        ("pydantic validation alone (baseline)", f"{n / v:,.0f} records/s"),
        ("mapping, cold phone cache", f"{n / c:,.0f} records/s ({c / v:.2f}x)"),
        ("mapping, warm phone cache", f"{n / w:,.0f} records/s ({w / v:.2f}x, target <= 2x)"),
    ], w / v


async def paging(concurrency: int, latency: float) -> tuple[float, int]:
    emulator = ViastoEmulator()
    emulator.add_company(
        company_id=4, name="ACME GmbH", token=TOKEN, projects=2, candidates_per_project=200
    )
    emulator.faults.latency = latency
    settings = ViastoSettings(
        base_url="https://acme.interview-suite.com/api/v3",
        company_id="4",
        token=TOKEN,
        page_size=10,
        max_concurrent_pages=concurrency,
        company_name="ACME GmbH",
    )
    async with ViastoConnector(settings, transport=EmulatorTransport(emulator.app)) as connector:
        started = time.perf_counter()
        seen = sum([len(page.records) async for page in connector.iter_candidates()])
    return time.perf_counter() - started, seen


def main(per_project: int = 2500) -> None:
    report(f"viasto mapping, {4 * per_project} candidates", mapping(per_project)[0])
    rows = []
    sequential, n = asyncio.run(paging(1, 0.05))
    rows.append(
        ("sequential (1 page at a time)", f"{sequential:6.2f} s for {n} candidates, 40 pages")
    )
    for concurrency in (4, 6, 8):  # 6 is the default
        concurrent, _ = asyncio.run(paging(concurrency, 0.05))
        rows.append(
            (
                f"concurrent ({concurrency} pages at a time)",
                f"{concurrent:6.2f} s -> {sequential / concurrent:.1f}x faster (target >= 3x)",
            )
        )
    report("viasto paging over the emulator, 50 ms latency per request", rows)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2500)
