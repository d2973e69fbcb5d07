"""``GET /api/ats/v1/applications`` with and without ``expand=candidate,job``, from the store,
in one run: the cost of embedding related objects.

    uv run python -m bench.api_lists [seconds] [--repeat N]

One uvicorn worker on SQLite, 2,000 applications over Flatchr's emulator. Each round loads both
URLs for ``seconds`` (plain, then expanded), pages of 50 from random cursors (a client paging
through, not a cached first page), at 1 connection (a client paging alone: latency) and at 16
(a saturated worker: throughput); the medians of the rounds are compared.
Target: the expanded p50 at most 2x the plain p50.
"""

import argparse
import asyncio
import random
import statistics
import tempfile
from pathlib import Path

import httpx

from bench.api_read import serve
from bench.common import report
from bench.loadgen import LoadResult, load
from connectors.flatchr.emulator import FlatchrEmulator
from connectors.sdk.emulation import EmulatorTransport
from unified_ats.demo import free_port
from unified_ats.onboarding import connect
from unified_ats.services import Services
from unified_ats.settings import Settings

COMPANY, KEY = "BENCHCOMPANY0000", "flt_bench_key"
SIZE = 2_000


async def prepare(data_dir: Path) -> tuple[str, str, list[str]]:
    """A synced store; returns the API key, the connector token and every page's cursor."""
    emulator = FlatchrEmulator()
    emulator.add_company(company_id=COMPANY, api_key=KEY, name="Bench SA", size=SIZE)
    services = await Services.start(
        Settings(data_dir=data_dir, allow_base_url_override=True),
        transports={"flatchr": EmulatorTransport(emulator.app)},
    )
    try:
        tenant, api_key = await services.accounts.create_tenant("bench")
        connection, token, _ = await connect(
            services, tenant, "flatchr", {"api_key": KEY, "company_id": COMPANY}, sync_now=False
        )
        await services.sync(connection.id, full=True)
        return api_key, token
    finally:
        await services.aclose()


def page_cursors(base: str, headers: dict[str, str]) -> list[str]:
    """Every page's cursor, as a client walking the listing gets them (they are sealed)."""
    cursors: list[str] = []
    cursor: str | None = ""
    while cursor is not None:
        page = httpx.get(f"{base}&cursor={cursor}", headers=headers, timeout=30).json()
        cursor = page["cursor"]
        if cursor:
            cursors.append(cursor)
    return cursors[:-1]


def main(seconds: int, repeat: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp)
        api_key, token = asyncio.run(prepare(data_dir))
        env = {"UNIFIED_ATS_DATA_DIR": str(data_dir), "UNIFIED_ATS_SYNC_INTERVAL_SECONDS": "0"}
        headers = {"Authorization": f"Bearer {api_key}", "x-connector-token": token}
        port = free_port()
        process = serve("unified_ats.api.app:create_app", port, env)
        results: dict[str, list[LoadResult]] = {}
        try:
            base = f"http://127.0.0.1:{port}/api/ats/v1/applications?page_size=50"
            cursors = page_cursors(base, headers)
            for _ in range(repeat):
                cursor = random.choice(cursors)
                for connections in (1, 16):
                    for kind, extra in (("plain", ""), ("expanded", "&expand=candidate,job")):
                        url = f"{base}&cursor={cursor}{extra}"
                        load(url, headers, connections=connections, seconds=1)  # warm-up
                        results.setdefault(f"{kind}, {connections} conn", []).append(
                            load(url, headers, connections=connections, seconds=seconds)
                        )
        finally:
            process.terminate()
            process.wait()
    p50 = {name: statistics.median(r.p50_ms for r in runs) for name, runs in results.items()}
    rps = {
        name: statistics.median(r.requests_per_second for r in runs)
        for name, runs in results.items()
    }
    errors = sum(r.errors for runs in results.values() for r in runs)
    rows = [
        (name, f"{rps[name]:7,.0f} req/s  p50 {p50[name]:7.2f} ms  ({results[name][0].tool})")
        for name in results
    ]
    for connections in (1, 16):
        ratio = p50[f"expanded, {connections} conn"] / p50[f"plain, {connections} conn"]
        rows.append((f"expanded / plain, {connections} conn", f"p50 {ratio:.2f}x (target <= 2x)"))
    rows.append(("errors", str(errors)))
    report(
        f"GET /applications?page_size=50, plain vs expand=candidate,job, {seconds}s x {repeat}",
        rows,
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("seconds", type=int, nargs="?", default=5)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    main(args.seconds, args.repeat)
