"""A full sync of N Flatchr applicants from the emulator into SQLite, at 10k and 100k.

    uv run python -m bench.sync_flatchr [sizes...]

For each size, in a fresh process: the bare enumeration through the connector (baseline),
a full sync into a new SQLite store (records/s, peak RSS), and a second full sync with no
vendor change (rows written; must be 0). The emulator runs in its own process.
Targets: >= 5k records/s; peak RSS grows < 50 MB from 10k to 100k.
"""

import asyncio
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from bench.common import report
from bench.emulator_server import COMPANY, KEY
from unified_ats.demo import free_port


async def measure(base_url: str, data_dir: Path) -> dict[str, float]:
    from connectors.flatchr import FlatchrConnector, FlatchrSettings
    from unified_ats.onboarding import connect
    from unified_ats.services import Services
    from unified_ats.settings import Settings

    settings = FlatchrSettings(api_key=KEY, company_id=COMPANY, base_url=base_url)
    started = time.perf_counter()
    seen = 0
    async with FlatchrConnector(settings) as connector:
        async for page in connector.iter_candidates():
            seen += len(page.records)
    enumerate_seconds = time.perf_counter() - started
    services = await Services.start(Settings(data_dir=data_dir, allow_base_url_override=True))
    try:
        tenant, _ = await services.accounts.create_tenant("bench")
        connection, _, _ = await connect(
            services,
            tenant,
            "flatchr",
            {"api_key": KEY, "company_id": COMPANY, "base_url": base_url},
            sync_now=False,
        )
        first = await services.sync(connection.id, full=True)
        second = await services.sync(connection.id, full=True)
    finally:
        await services.aclose()
    return {
        "records": seen,
        "enumerate_rps": seen / enumerate_seconds,
        "sync_rps": first.seen / first.duration_seconds,
        "sync_seconds": first.duration_seconds,
        "resync_rows_written": second.rows_written,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def run_size(size: int) -> dict[str, float]:
    port = free_port()
    emulator = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "bench.emulator_server:create",
            "--factory",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        env={**os.environ, "BENCH_SIZE": str(size)},
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                httpx.get(f"http://127.0.0.1:{port}/", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.2)
        with tempfile.TemporaryDirectory() as tmp:
            out = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "bench.sync_flatchr",
                    "--child",
                    f"http://127.0.0.1:{port}",
                    tmp,
                ],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
        return json.loads(out.strip().splitlines()[-1])
    finally:
        emulator.terminate()
        emulator.wait()


def main(sizes: list[int]) -> None:
    results = {size: run_size(size) for size in sizes}
    rows = []
    for size, r in results.items():
        rows.append(
            (
                f"{size:>7,} applicants",
                f"enumerate {r['enumerate_rps']:8,.0f} rec/s | full sync {r['sync_rps']:8,.0f} rec/s "
                f"({r['sync_rps'] / r['enumerate_rps']:.2f}x of enumeration) | re-sync rows written "
                f"{r['resync_rows_written']:.0f} | peak RSS {r['peak_rss_mb']:.0f} MB",
            )
        )
    if len(sizes) >= 2:
        small, large = results[sizes[0]], results[sizes[-1]]
        rows.append(
            (
                "peak RSS growth",
                f"{large['peak_rss_mb'] - small['peak_rss_mb']:+.0f} MB from {sizes[0]:,} to {sizes[-1]:,} (target < 50 MB)",
            )
        )
    report(
        "Full sync of Flatchr applicants from the emulator into SQLite (target >= 5k rec/s)", rows
    )


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        print(json.dumps(asyncio.run(measure(sys.argv[2], Path(sys.argv[3])))))
    else:
        main([int(a) for a in sys.argv[1:]] or [10_000, 100_000])
