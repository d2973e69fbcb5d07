"""Syncs against the vendor: each vendor emulator in its own process (its CPU is the vendor's,
not ours), with the emulators' latency switch at 0 and 50 ms per request.

    python -m bench.sync [flatchr|welcomekit|viasto|all] [sizes...] [--latency MS ...] [--pg URL]

For each vendor, size and latency, in a fresh process and the same run:

- the baseline: enumerating the vendor through the connector, nothing stored (Welcome Kit: its
  candidates *without* their ``/documents`` calls; viasto: one page in flight at a time);
- a full sync into a new SQLite store, or the PostgreSQL given (emptied first) (records/s, its
  ratio to the baseline, peak RSS);
- an unchanged re-sync (its time against the full sync's; rows written must be 0);
- whose CPU each record cost, in the baseline and the full sync: our process (and its event
  loop thread), the emulator's process, and how busy the machine's cores were. A sync that
  keeps every core busy is bound by CPU, and these say whose.

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


def cpu_seconds(pid: int) -> float:
    """A process's CPU time so far (user and system, all threads), from /proc: the
    emulator's, read from our process. NaN where /proc is missing."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class CpuUse:
    """CPU seconds spent in a block: our process, its calling (event loop) thread, and the
    emulator's process. On a machine with few cores, a sync is bound by CPU when these add up
    to its wall time times the cores; they say whose CPU the time went to. A PostgreSQL
    server's own processes are not counted (SQLite's work is ours: a thread of our process)."""

    def __init__(self, emulator_pid: int) -> None:
        self.emulator_pid = emulator_pid

    def __enter__(self) -> "CpuUse":
        self._start = (
            time.process_time(),
            time.thread_time(),
            cpu_seconds(self.emulator_pid),
        )
        return self

    def __exit__(self, *_exc: object) -> None:
        process, thread, emulator = self._start
        self.ours = time.process_time() - process
        self.loop_thread = time.thread_time() - thread
        self.emulator = cpu_seconds(self.emulator_pid) - emulator


async def measure(
    vendor: str, base_url: str, data_dir: Path, emulator_pid: int = 0, pg: str | None = None
) -> dict[str, float]:
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
    with CpuUse(emulator_pid) as enumerate_cpu:
        seen, enumerate_seconds = await enumerate_once(vendor, baseline_raw)
    result: dict[str, float] = {
        "records": seen,
        "enumerate_rps": seen / enumerate_seconds,
        "enumerate_cpu_ms_per_record": 1000 * enumerate_cpu.ours / seen,
        "enumerate_emulator_cpu_ms_per_record": 1000 * enumerate_cpu.emulator / seen,
    }
    if vendor == "viasto":
        raw["max_concurrent_pages"] = 4
        _, concurrent_seconds = await enumerate_once(vendor, raw)
        result["paging_speedup"] = enumerate_seconds / concurrent_seconds
    if pg:
        from bench.api_read import reset_postgres

        await reset_postgres(pg)
    services = await Services.start(
        Settings(data_dir=data_dir, database_url=pg, allow_base_url_override=True)
    )
    try:
        tenant, _ = await services.accounts.create_tenant("bench")
        connection, _, _ = await connect(services, tenant, vendor, raw, sync_now=False)
        with CpuUse(emulator_pid) as sync_cpu:
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
            "sync_cpu_ms_per_record": 1000 * sync_cpu.ours / first.seen,
            "sync_loop_cpu_ms_per_record": 1000 * sync_cpu.loop_thread / first.seen,
            "sync_emulator_cpu_ms_per_record": 1000 * sync_cpu.emulator / first.seen,
            "sync_cpu_share": (sync_cpu.ours + sync_cpu.emulator)
            / (first.duration_seconds * (os.cpu_count() or 1)),
        }
    )
    return result


@contextlib.contextmanager
def emulator_process(vendor: str, size: int, latency: float = 0.0) -> Iterator[str]:
    """A vendor emulator with ``size`` records in its own process, answering after
    ``latency`` seconds (its ``/_emulator/faults`` switch); yields its base URL."""
    with emulator_server(vendor, size, latency) as (base_url, _pid):
        yield base_url


@contextlib.contextmanager
def emulator_server(vendor: str, size: int, latency: float) -> Iterator[tuple[str, int]]:
    """``emulator_process``, yielding its process id too (to read its CPU time)."""
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
        yield base, emulator.pid
    finally:
        emulator.terminate()
        emulator.wait()


def run_one(vendor: str, size: int, latency: float, pg: str | None = None) -> dict[str, float]:
    with (
        emulator_server(vendor, size, latency) as (base_url, pid),
        tempfile.TemporaryDirectory() as tmp,
    ):
        out = subprocess.run(
            [
                *(sys.executable, "-m", "bench.sync", "--child", vendor, base_url, tmp, str(pid)),
                *([pg] if pg else []),
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    result: dict[str, float] = json.loads(out.strip().splitlines()[-1])
    return result


def cpu_line(r: dict[str, float]) -> str:
    """Whose CPU a record cost (ms), and how busy the machine's cores were in the sync."""
    return (
        f"baseline: ours {r['enumerate_cpu_ms_per_record']:.2f}, emulator"
        f" {r['enumerate_emulator_cpu_ms_per_record']:.2f}; full sync: ours"
        f" {r['sync_cpu_ms_per_record']:.2f} (event loop thread"
        f" {r['sync_loop_cpu_ms_per_record']:.2f}), emulator"
        f" {r['sync_emulator_cpu_ms_per_record']:.2f}; cores busy {r['sync_cpu_share']:.0%}"
    )


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
        rows.append(("  CPU per record", cpu_line(r)))
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
    parser.add_argument(
        "--pg", help="sync into this PostgreSQL (postgresql+asyncpg://...); emptied"
    )
    args = parser.parse_args()
    vendors = ["flatchr", "welcomekit", "viasto"] if args.vendor == "all" else [args.vendor]
    sizes = args.sizes or [10_000]
    everything: dict[str, dict[str, dict[str, float]]] = {}
    for vendor in vendors:
        results = {
            (size, ms / 1000): run_one(vendor, size, ms / 1000, args.pg)
            for size in sizes
            for ms in args.latency
        }
        report(
            f"{vendor}: full sync from its emulator (own process) into"
            f" {'PostgreSQL' if args.pg else 'SQLite'}, {os.cpu_count()} cores",
            rows_for(vendor, results),
        )
        everything[vendor] = {
            f"{s} records, {lat * 1000:.0f} ms": r for (s, lat), r in results.items()
        }
    if args.json:
        args.json.write_text(json.dumps(everything))


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        vendor, base_url, data_dir, pid = sys.argv[2:6]
        pg = sys.argv[6] if len(sys.argv) > 6 else None
        print(json.dumps(asyncio.run(measure(vendor, base_url, Path(data_dir), int(pid), pg))))
    else:
        main()
