"""Syncs against the vendor: each vendor emulator in its own process (its CPU is the vendor's,
not ours), with the emulators' latency switch at 0 and 50 ms per request.

    python -m bench.sync [flatchr|welcomekit|viasto|all] [sizes...] [--latency MS ...]

For each vendor, size and latency, in a fresh process and the same run:

- the baseline: enumerating the vendor through the connector, nothing stored (Welcome Kit: its
  candidates *without* their ``/documents`` calls; viasto: one page in flight at a time);
- a full sync into a new SQLite store (records/s, its ratio to the baseline, peak RSS);
- an unchanged re-sync (its time against the full sync's; rows written must be 0).

Targets (issue 18): Flatchr full sync >= 0.7x enumeration, unchanged re-sync <= 0.3x a full
sync; Welcome Kit >= 0.5x its enumeration without documents, at 0 and 50 ms; viasto >= 3x
with 4 pages in flight against one.
"""

import argparse
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
from typing import Any

import httpx

from bench.common import report
from bench.emulator_server import settings_for
from unified_ats.demo import free_port


async def enumerate_once(vendor: str, raw: dict[str, Any]) -> tuple[int, float]:
    from connectors import default_registry

    cls = default_registry().get(vendor)
    started = time.perf_counter()
    seen = 0
    async with cls(cls.settings_model.model_validate(raw)) as connector:
        async for page in connector.iter_candidates():
            seen += len(page.records)
    return seen, time.perf_counter() - started


async def measure(vendor: str, base_url: str, data_dir: Path) -> dict[str, float]:
    from unified_ats.onboarding import connect
    from unified_ats.services import Services
    from unified_ats.settings import Settings

    raw: dict[str, Any] = settings_for(vendor, base_url)
    if vendor == "viasto":
        raw["page_size"] = 10  # many pages: what paging concurrency is about
    baseline_raw = dict(raw)
    if vendor == "welcomekit":
        baseline_raw["fetch_documents"] = False
    if vendor == "viasto":
        baseline_raw["max_concurrent_pages"] = 1
    seen, enumerate_seconds = await enumerate_once(vendor, baseline_raw)
    result: dict[str, float] = {"records": seen, "enumerate_rps": seen / enumerate_seconds}
    if vendor == "viasto":
        raw["max_concurrent_pages"] = 4
        _, concurrent_seconds = await enumerate_once(vendor, raw)
        result["paging_speedup"] = enumerate_seconds / concurrent_seconds
    services = await Services.start(Settings(data_dir=data_dir, allow_base_url_override=True))
    try:
        tenant, _ = await services.accounts.create_tenant("bench")
        connection, _, _ = await connect(services, tenant, vendor, raw, sync_now=False)
        first = await services.sync(connection.id, full=True)
        second = await services.sync(connection.id, full=True)
    finally:
        await services.aclose()
    result.update(
        {
            "sync_rps": first.seen / first.duration_seconds,
            "sync_seconds": first.duration_seconds,
            "resync_seconds": second.duration_seconds,
            "resync_rows_written": second.rows_written,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        }
    )
    return result


@contextlib.contextmanager
def emulator_process(vendor: str, size: int, latency: float) -> Iterator[str]:
    """A vendor emulator with ``size`` records in its own process, answering after
    ``latency`` seconds (its ``/_emulator/faults`` switch); yields its base URL."""
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
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            try:
                httpx.get(f"{base}/", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.2)
        httpx.post(f"{base}/_emulator/faults", json={"latency": latency}).raise_for_status()
        yield base
    finally:
        emulator.terminate()
        emulator.wait()


def run_one(vendor: str, size: int, latency: float) -> dict[str, float]:
    with emulator_process(vendor, size, latency) as base_url, tempfile.TemporaryDirectory() as tmp:
        out = subprocess.run(
            [sys.executable, "-m", "bench.sync", "--child", vendor, base_url, tmp],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    result: dict[str, float] = json.loads(out.strip().splitlines()[-1])
    return result


def rows_for(
    vendor: str, results: dict[tuple[int, float], dict[str, float]]
) -> list[tuple[str, str]]:
    rows = []
    baseline = {
        "flatchr": "enumeration",
        "welcomekit": "enumeration without documents",
        "viasto": "enumeration, 1 page in flight",
    }[vendor]
    for (size, latency), r in results.items():
        line = (
            f"{baseline} {r['enumerate_rps']:7,.0f} rec/s | full sync {r['sync_rps']:7,.0f} rec/s"
            f" ({r['sync_rps'] / r['enumerate_rps']:.2f}x) | unchanged re-sync"
            f" {r['resync_seconds'] / r['sync_seconds']:.2f}x of a full sync's time,"
            f" {r['resync_rows_written']:.0f} rows written | peak RSS {r['peak_rss_mb']:.0f} MB"
        )
        if "paging_speedup" in r:
            line += f" | 4 pages in flight: {r['paging_speedup']:.2f}x faster than 1"
        rows.append((f"{size:>7,} records, {latency * 1000:.0f} ms", line))
    sizes = sorted({size for size, _ in results})
    if len(sizes) >= 2:
        small = results.get((sizes[0], 0.0))
        large = results.get((sizes[-1], 0.0))
        if small and large:
            rows.append(
                (
                    "peak RSS growth",
                    f"{large['peak_rss_mb'] - small['peak_rss_mb']:+.0f} MB from {sizes[0]:,}"
                    f" to {sizes[-1]:,}",
                )
            )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("vendor", nargs="?", default="all")
    parser.add_argument("sizes", nargs="*", type=int)
    parser.add_argument("--latency", type=float, nargs="*", default=[0, 50], help="ms")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    vendors = ["flatchr", "welcomekit", "viasto"] if args.vendor == "all" else [args.vendor]
    sizes = args.sizes or [10_000]
    everything: dict[str, dict[str, dict[str, float]]] = {}
    for vendor in vendors:
        results = {
            (size, ms / 1000): run_one(vendor, size, ms / 1000)
            for size in sizes
            for ms in args.latency
        }
        report(
            f"{vendor}: full sync from its emulator (own process) into SQLite, {os.cpu_count()}"
            " cores",
            rows_for(vendor, results),
        )
        everything[vendor] = {
            f"{s} records, {lat * 1000:.0f} ms": r for (s, lat), r in results.items()
        }
    if args.json:
        args.json.write_text(json.dumps(everything))


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        print(json.dumps(asyncio.run(measure(sys.argv[2], sys.argv[3], Path(sys.argv[4])))))
    else:
        main()
