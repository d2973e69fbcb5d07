"""A full sync of N records from each vendor emulator into SQLite, at 10k and 100k.

    uv run python -m bench.sync [flatchr|welcomekit|all] [sizes...]

For each size, in a fresh process: the bare enumeration through the connector (baseline),
a full sync into a new SQLite store (records/s, peak RSS), and a second full sync with no
vendor change (rows written; must be 0). The emulator runs in its own process.
Targets: >= 5k records/s; peak RSS grows < 50 MB from 10k to 100k.
"""

import asyncio
import contextlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from bench.common import report
from bench.emulator_server import settings_for
from unified_ats.demo import free_port


async def measure(vendor: str, base_url: str, data_dir: Path) -> dict[str, float]:
    from connectors import default_registry
    from unified_ats.onboarding import connect
    from unified_ats.services import Services
    from unified_ats.settings import Settings

    raw = settings_for(vendor, base_url)
    cls = default_registry().get(vendor)
    started = time.perf_counter()
    seen = 0
    async with cls(cls.settings_model.model_validate(raw)) as connector:
        async for page in connector.iter_candidates():
            seen += len(page.records)
    enumerate_seconds = time.perf_counter() - started
    services = await Services.start(Settings(data_dir=data_dir, allow_base_url_override=True))
    try:
        tenant, _ = await services.accounts.create_tenant("bench")
        connection, _, _ = await connect(services, tenant, vendor, raw, sync_now=False)
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


@contextlib.contextmanager
def emulator_process(vendor: str, size: int) -> Iterator[str]:
    """A vendor emulator with ``size`` records in its own process; yields its base URL."""
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
        env={**os.environ, "BENCH_SIZE": str(size), "BENCH_VENDOR": vendor},
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                httpx.get(f"http://127.0.0.1:{port}/", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.2)
        yield f"http://127.0.0.1:{port}"
    finally:
        emulator.terminate()
        emulator.wait()


def run_size(vendor: str, size: int) -> dict[str, float]:
    with emulator_process(vendor, size) as base_url, tempfile.TemporaryDirectory() as tmp:
        out = subprocess.run(
            [sys.executable, "-m", "bench.sync", "--child", vendor, base_url, tmp],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    result: dict[str, float] = json.loads(out.strip().splitlines()[-1])
    return result


def main(vendor: str, sizes: list[int]) -> None:
    results = {size: run_size(vendor, size) for size in sizes}
    rows = []
    for size, r in results.items():
        rows.append(
            (
                f"{size:>7,} records",
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
    report(f"Full sync of {vendor} from its emulator into SQLite (target >= 5k rec/s)", rows)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        print(json.dumps(asyncio.run(measure(sys.argv[2], sys.argv[3], Path(sys.argv[4])))))
    else:
        which = sys.argv[1] if len(sys.argv) > 1 and not sys.argv[1].isdigit() else "all"
        sizes = [int(a) for a in sys.argv[1:] if a.isdigit()] or [10_000, 100_000]
        for name in ("flatchr", "welcomekit") if which == "all" else (which,):
            main(name, sizes)
