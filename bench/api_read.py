"""Reads from the store against bare FastAPI routes answering the same JSON from memory, side by
side in one run (same uvicorn settings, same machine); prints the ratios.

    python -m bench.api_read [seconds] [--repeat N] [--pg URL] [--json FILE]

2,000 Flatchr candidates are synced into a store (SQLite in a temporary directory, or the
PostgreSQL database at ``--pg``, emptied first). One uvicorn worker per server. Scenarios:

- ``GET /candidates/{id}``, a random one of the 2,000 ids per request: what users hit.
- the same, one id repeated: what a 1 s in-memory cache can answer (reported apart).
- ``GET /candidates?page_size=50``, a random page's cursor per request.
- the random-id read at 8 connections: its p99 against the bare route's p99 at 8 (at 64
  connections queueing decides the p99, not the request's own cost).

Each repeat loads every scenario on both servers in turn; figures are medians over repeats.
Targets: random id >= 0.5x the bare route's req/s; list of 50 >= 0.3x; p99 at 8 connections
<= 3x the bare route's. Timeouts count as errors.
"""

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

import httpx

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
UVICORN_ARGS = ["--host", "127.0.0.1", "--log-level", "warning", "--no-access-log"]
BASE = "/api/ats/v1/candidates"
SCENARIOS = {
    "get random id, 64 conn": 64,
    "get hot id, 64 conn": 64,
    "get random id, 8 conn": 8,
    "list 50, 64 conn": 64,
    "list 50, 8 conn": 8,
}


async def reset_postgres(url: str) -> None:
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(url)
    async with engine.begin() as connection:
        await connection.execute(text("DROP SCHEMA public CASCADE"))
        await connection.execute(text("CREATE SCHEMA public"))
    await engine.dispose()


async def prepare(settings: Settings) -> tuple[str, str]:
    """A store holding SIZE synced candidates; returns the API key and the connector token."""
    emulator = FlatchrEmulator()
    emulator.add_company(company_id=COMPANY, api_key=KEY, name="Bench SA", size=SIZE)
    services = await Services.start(
        settings, transports={"flatchr": EmulatorTransport(emulator.app)}
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


def serve(target: str, port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", target, "--factory", "--port", str(port), *UVICORN_ARGS],
        env={**os.environ, **env},
    )
    deadline = time.monotonic() + 120  # a loaded 2-core machine starts slowly
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code in (200, 404):
                return process
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"{target} did not start")


def served_bodies(origin: str, headers: dict[str, str]) -> dict[str, str]:
    """Every candidate and every list page as the store serves them: the bare routes' bodies."""
    bodies: dict[str, str] = {}
    with httpx.Client(base_url=origin, headers=headers, timeout=60) as client:
        cursor: str | None = ""
        while cursor is not None:
            path = f"{BASE}?page_size=50" + (f"&cursor={cursor}" if cursor else "")
            response = client.get(path)
            response.raise_for_status()
            bodies[path] = response.text
            page = response.json()
            for item in page["items"]:
                one = client.get(f"{BASE}/{item['id']}")
                one.raise_for_status()
                bodies[f"{BASE}/{item['id']}"] = one.text
            cursor = page["cursor"]
    return bodies


def _items(body: str) -> object:
    document = json.loads(body)
    return document.get("items", document)


def scenario_paths(bodies: dict[str, str]) -> dict[str, list[str]]:
    ids = sorted(p for p in bodies if "?" not in p)
    pages = sorted(p for p in bodies if "?" in p)
    return {
        "get random id, 64 conn": ids,
        "get hot id, 64 conn": ids[:1],
        "get random id, 8 conn": ids,
        "list 50, 64 conn": pages,
        "list 50, 8 conn": pages,
    }


def run(seconds: int, repeat: int, pg_url: str | None) -> dict[str, dict[str, LoadResult]]:
    """Per scenario, per server ("bare", "store"): the median figures over ``repeat`` rounds."""
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp)
        env = {
            "UNIFIED_ATS_DATA_DIR": str(data_dir),
            "UNIFIED_ATS_MAX_AGE_SECONDS": "86400",  # serve the store: no vendor refresh
            "UNIFIED_ATS_SYNC_INTERVAL_SECONDS": "0",
            "BENCH_BARE_JSON": str(data_dir / "bare.json"),
        }
        if pg_url:
            asyncio.run(reset_postgres(pg_url))
            env["UNIFIED_ATS_DATABASE_URL"] = pg_url
        settings = Settings(data_dir=data_dir, database_url=pg_url, allow_base_url_override=True)
        api_key, token = asyncio.run(prepare(settings))
        headers = {"Authorization": f"Bearer {api_key}", "x-connector-token": token}
        store_port, bare_port = free_port(), free_port()
        processes = [serve("unified_ats.api.app:create_app", store_port, env)]
        try:
            bodies = served_bodies(f"http://127.0.0.1:{store_port}", headers)
            (data_dir / "bare.json").write_text(json.dumps(bodies))
            processes.append(serve("bench.bare_app:create", bare_port, env))
            paths = scenario_paths(bodies)
            origins = {
                "bare": f"http://127.0.0.1:{bare_port}",
                "store": f"http://127.0.0.1:{store_port}",
            }
            for origin in origins.values():  # the same items for the same request (a next
                # page's cursor is sealed afresh each time: equal in length, not in bytes)
                for path in (paths["get hot id, 64 conn"][0], paths["list 50, 8 conn"][-1]):
                    got = httpx.get(origin + path, headers=headers)
                    assert got.status_code == 200, got.text[:200]
                    assert _items(got.text) == _items(bodies[path]), path
            rounds: dict[str, dict[str, list[LoadResult]]] = {}
            for _ in range(repeat):
                for scenario, connections in SCENARIOS.items():
                    for server in ("bare", "store"):
                        urls = [origins[server] + path for path in paths[scenario]]
                        load(urls, headers, connections=connections, seconds=1)  # warm-up
                        result = load(
                            urls,
                            headers,
                            connections=connections,
                            seconds=seconds,
                        )
                        rounds.setdefault(scenario, {}).setdefault(server, []).append(result)
        finally:
            for process in processes:
                process.terminate()
                process.wait()
    return {
        scenario: {server: median(results) for server, results in servers.items()}
        for scenario, servers in rounds.items()
    }


def median(results: list[LoadResult]) -> LoadResult:
    return LoadResult(
        results[0].tool,
        statistics.median(r.requests_per_second for r in results),
        statistics.median(r.p50_ms for r in results),
        statistics.median(r.p99_ms for r in results),
        sum(r.errors for r in results),
        sum(r.timeouts for r in results),
    )


def summary(figures: dict[str, dict[str, LoadResult]]) -> dict[str, float]:
    """The issue's targets, as ratios against the bare route."""

    def rps(scenario: str) -> float:
        return (
            figures[scenario]["store"].requests_per_second
            / figures[scenario]["bare"].requests_per_second
        )

    return {
        "random id req/s ratio (>= 0.5)": rps("get random id, 64 conn"),
        "hot id req/s ratio": rps("get hot id, 64 conn"),
        "list 50 req/s ratio (>= 0.3)": rps("list 50, 64 conn"),
        "random id p99 ratio at 8 conn (<= 3)": figures["get random id, 8 conn"]["store"].p99_ms
        / figures["get random id, 8 conn"]["bare"].p99_ms,
        "errors": sum(r.errors for s in figures.values() for r in s.values()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("seconds", type=int, nargs="?", default=10)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--pg", help="a PostgreSQL URL (postgresql+asyncpg://...); emptied")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    figures = run(args.seconds, args.repeat, args.pg)
    backend = "PostgreSQL" if args.pg else "SQLite"
    rows = [
        (
            f"{scenario} [{server}]",
            f"{r.requests_per_second:8,.0f} req/s  p50 {r.p50_ms:7.2f} ms  p99 {r.p99_ms:7.2f} ms"
            f"  errors {r.errors} (timeouts {r.timeouts})",
        )
        for scenario, servers in figures.items()
        for server, r in servers.items()
    ]
    rows += [(name, f"{value:.2f}") for name, value in summary(figures).items()]
    report(
        f"Reads on {backend}, store vs bare route, {args.seconds}s x {args.repeat}, "
        f"{os.cpu_count()} cores",
        rows,
    )
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "backend": backend,
                    "figures": {
                        s: {k: asdict(v) for k, v in servers.items()}
                        for s, servers in figures.items()
                    },
                    "summary": summary(figures),
                }
            )
        )


if __name__ == "__main__":
    main()
