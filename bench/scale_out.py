"""Scale-out soak: syncs as procrastinate jobs on PostgreSQL, run by several worker processes.

    uv run python -m bench.scale_out [--quick] [--connections N] [--workers W] [--pg-url URL]

Sets up PostgreSQL (the schema of ``--pg-url`` is reset, then migrated), three standalone
emulators serving many accounts each (``unified-ats emulator <vendor> --accounts A``), one
``unified-ats serve`` (which runs no sync: PostgreSQL mode) and W ``unified-ats worker``
processes. Connections (2,000 by default, 150 with ``--quick``) are linked through the API over
ten tenants (one holds half of them, one holds a single connection), each starting its first
sync as a job. While they sync: bursts of concurrent ``POST /sync-status`` (some full), vendor
changes (``/_emulator/change``: create, update, delete) and, once a quarter of the connections
have synced, ``kill -9`` of one worker in the middle of its runs (restarted as a new worker a
second later, as a supervisor would; the killed one's jobs are recovered after its heartbeat
stops). Then the vendors stop changing and every connection whose vendor account changed is asked
for a full sync once more (deletions are only ever marked by full runs); the store is compared
with the vendors.

Checks: ``overlapping_runs`` (two runs of one connection at once), ``wrongly_deleted`` (stored
rows marked deleted that the vendor still lists), ``lost`` (vendor records not stored live),
and every connection synced. Figures: ``jobs_per_s`` (sync jobs done per second of syncing),
``p95_queue_delay_s`` (job enqueued -> started), peak PostgreSQL connections and peak memory
(RSS) per worker. The last line:

    workers=W connections=C runs=R overlapping_runs=0 wrongly_deleted=0 lost=0 jobs_per_s=X p95_queue_delay_s=Y
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import random
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from bench.chaos import Proc, cli, free_port
from unified_ats.demo.emulators import account_settings

PG_URL = os.environ.get(
    "UNIFIED_ATS_SCALE_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test_h5"
)
VENDORS = ("flatchr", "welcomekit", "viasto")
ACCOUNT_KEY = {"flatchr": "company_id", "welcomekit": "organization_reference"}
API = "/api/ats/v1"


@dataclass
class Conn:
    vendor: str
    account: str
    tenant: int
    id: str = ""
    token: str = ""


@dataclass
class Figures:
    pg_connections: int = 0
    worker_rss_mb: list[float] = field(default_factory=list)


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


async def reset(url: str) -> AsyncEngine:
    engine = create_async_engine(url)
    async with engine.begin() as connection:
        await connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        await connection.execute(text("CREATE SCHEMA public"))
    from unified_ats.store.database import make_engine, migrate

    migrating = make_engine(url)
    await migrate(migrating)  # our tables and procrastinate's (migration 0007)
    await migrating.dispose()
    return engine


async def wait_line(proc: Proc, seconds: float = 120) -> dict:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and proc.popen.poll() is None:
        content = proc.out_path.read_text(errors="replace")
        if "\n" in content:
            return json.loads(content.splitlines()[0])
        await asyncio.sleep(0.05)
    raise RuntimeError(f"{proc.name} did not start:\n{proc.tail()}")


async def wait_http(url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    async with httpx.AsyncClient() as client:
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                if (await client.get(url)).status_code < 500:
                    return
            await asyncio.sleep(0.1)
    raise RuntimeError(f"{url} did not answer")


async def scalar(engine: AsyncEngine, sql: str) -> int:
    async with engine.connect() as connection:
        return int((await connection.execute(text(sql))).scalar() or 0)


async def sample(engine: AsyncEngine, workers: list[Proc], figures: Figures) -> None:
    while True:
        figures.pg_connections = max(
            figures.pg_connections,
            await scalar(
                engine,
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()",
            ),
        )
        for index, worker in enumerate(workers):
            if worker.popen.poll() is None:
                figures.worker_rss_mb[index] = max(
                    figures.worker_rss_mb[index], rss_mb(worker.popen.pid)
                )
        await asyncio.sleep(1)


async def drained(engine: AsyncEngine, connections: int, deadline: float) -> None:
    """Until every connection has a succeeded run and no sync job waits or runs."""
    while time.monotonic() < deadline:
        outstanding = await scalar(
            engine,
            "SELECT count(*) FROM procrastinate_jobs WHERE task_name = 'sync' "
            "AND status IN ('todo', 'doing')",
        )
        synced = await scalar(
            engine,
            "SELECT count(DISTINCT connection_id) FROM sync_runs WHERE state = 'succeeded'",
        )
        if not outstanding and synced >= connections:
            return
        await asyncio.sleep(0.5)
    raise TimeoutError("the syncs did not drain in time")


async def run(args: argparse.Namespace) -> int:
    total = 150 if args.quick else args.connections
    size = args.size
    started = time.monotonic()
    budget = 170 if args.quick else 3600
    logs = Path(tempfile.mkdtemp(prefix="scale_out-"))
    engine = await reset(args.pg_url)
    env = {
        **os.environ,
        "UNIFIED_ATS_DATABASE_URL": args.pg_url,
        "UNIFIED_ATS_DATA_DIR": str(logs / "data"),
        "UNIFIED_ATS_ALLOW_BASE_URL_OVERRIDE": "true",
        "UNIFIED_ATS_JOB_RUNNER": "procrastinate",
        "UNIFIED_ATS_WORKER_CONCURRENCY": str(args.concurrency),
        "UNIFIED_ATS_MAX_AGE_SECONDS": "3600",
    }
    per_vendor = math.ceil(total / len(VENDORS))
    procs: list[Proc] = []
    workers: list[Proc] = []
    figures = Figures(worker_rss_mb=[0.0] * args.workers)
    try:
        emulators: dict[str, str] = {}
        for vendor in VENDORS:
            proc = Proc(
                vendor,
                cli("emulator", vendor, "--size", str(size), "--accounts", str(per_vendor)),
                env,
                logs,
            )
            procs.append(proc)
        for proc in procs:
            emulators[proc.name] = (await wait_line(proc))["base_url"]
        port = free_port()
        api = Proc("api", cli("serve", "--port", str(port)), env, logs)
        procs.append(api)
        base = f"http://127.0.0.1:{port}"
        await wait_http(f"{base}/health")
        for index in range(args.workers):
            workers.append(Proc(f"worker{index}", cli("worker", "--name", f"w{index}"), env, logs))

        # Tenants: one large (half of the connections), one with a single connection, the rest
        # spread over eight.
        from unified_ats.services import Services
        from unified_ats.settings import Settings

        services = await Services.start(
            Settings(
                data_dir=logs / "data",
                database_url=args.pg_url,
                job_runner="procrastinate",
                allow_base_url_override=True,
            ),
            run_migrations=False,
        )
        keys = [(await services.accounts.create_tenant(f"tenant{i}"))[1] for i in range(10)]
        conns: list[Conn] = []
        for i in range(total):
            vendor = VENDORS[i % len(VENDORS)]
            tenant = 0 if i < total // 2 else (1 if i == total // 2 else 2 + i % 8)
            conns.append(Conn(vendor, "", tenant))
        index_of = dict.fromkeys(VENDORS, 0)
        for conn in conns:
            conn.account = str(index_of[conn.vendor])
            index_of[conn.vendor] += 1
        random.Random(args.seed).shuffle(conns)

        figures_task = asyncio.create_task(sample(engine, workers, figures))
        sync_started = time.monotonic()
        limit = asyncio.Semaphore(32)
        async with httpx.AsyncClient(base_url=base, timeout=60) as client:

            async def link(conn: Conn) -> None:
                settings = account_settings(conn.vendor, emulators[conn.vendor], int(conn.account))
                async with limit:
                    response = await client.post(
                        f"{API}/connections",
                        json={"connector": conn.vendor, "settings": settings},
                        headers={"Authorization": f"Bearer {keys[conn.tenant]}"},
                    )
                response.raise_for_status()
                body = response.json()
                conn.id, conn.token = body["id"], body["connector_token"]

            await asyncio.gather(*(link(c) for c in conns))
            print(f"linked {total} connections in {time.monotonic() - sync_started:.1f}s")

            rng = random.Random(args.seed)
            stop = asyncio.Event()
            triggers = changes = 0
            touched: set[int] = set()
            churn_errors = 0

            async def churn() -> None:
                """Concurrent triggers and vendor changes; a refused or cut request (a server
                closing an idle keep-alive connection) is counted, never fatal."""
                nonlocal triggers, changes, churn_errors
                async with httpx.AsyncClient(timeout=30) as vendor_client:
                    while not stop.is_set():
                        burst = [rng.choice(conns) for _ in range(2)]
                        answers = await asyncio.gather(
                            *(
                                client.post(
                                    f"{API}/sync-status",
                                    params={"full": "true"} if rng.random() < 0.3 else {},
                                    headers={
                                        "Authorization": f"Bearer {keys[c.tenant]}",
                                        "x-connector-token": c.token,
                                    },
                                )
                                for c in burst
                            ),
                            return_exceptions=True,
                        )
                        churn_errors += sum(1 for a in answers if isinstance(a, Exception))
                        triggers += len(burst)
                        for c in rng.sample(conns, 2):
                            account = account_settings(c.vendor, "", int(c.account))
                            name = account.get(ACCOUNT_KEY.get(c.vendor, "company_id"))
                            try:
                                await vendor_client.post(
                                    f"{emulators[c.vendor]}/_emulator/change",
                                    json={
                                        "action": rng.choice(("create", "update", "delete")),
                                        "count": 1,
                                        "account": str(name),
                                    },
                                )
                            except httpx.HTTPError:
                                churn_errors += 1
                            # Touched even when the answer was lost: it may have been applied.
                            touched.add(conns.index(c))
                            changes += 1
                        await asyncio.sleep(1)

            async def kill_one() -> None:
                while True:
                    synced = await scalar(
                        engine,
                        "SELECT count(DISTINCT connection_id) FROM sync_runs "
                        "WHERE state = 'succeeded'",
                    )
                    if synced >= total // 4:
                        break
                    await asyncio.sleep(0.2)
                workers[0].kill9()
                print(f"killed worker0 (kill -9) at {time.monotonic() - sync_started:.1f}s")
                # A supervisor restarts it: a new worker; the killed one's jobs still wait for
                # the `recover` task (its heartbeat stopped), then run on whichever is free.
                await asyncio.sleep(1)
                workers[0] = Proc("worker0b", cli("worker", "--name", "w0b"), env, logs)

            churning = asyncio.create_task(churn())
            killing = asyncio.create_task(kill_one())
            # Churn until every connection has synced once (and the worker was killed), then
            # let the queue drain.
            while not killing.done() or (
                await scalar(
                    engine,
                    "SELECT count(DISTINCT connection_id) FROM sync_runs WHERE state = 'succeeded'",
                )
                < total
            ):
                if time.monotonic() > started + budget - 20:
                    raise TimeoutError("not every connection synced in time")
                await asyncio.sleep(0.5)
            stop.set()
            await churning
            await drained(engine, total, started + budget - 15)
            first_phase = time.monotonic() - sync_started
            print(
                f"first syncs done in {first_phase:.1f}s "
                f"({triggers} triggers, {changes} vendor changes, {churn_errors} cut or refused)"
            )

            # The vendors stop changing: one more full sync of every connection they changed.
            final_started = time.monotonic()
            failed_triggers = 0

            async def resync(conn: Conn) -> None:
                """A full sync asked for once, retried if the request is cut or times out (an
                unsent request would leave that account's last changes unsynced)."""
                nonlocal failed_triggers
                for _ in range(5):
                    try:
                        async with limit:
                            answer = await client.post(
                                f"{API}/sync-status",
                                params={"full": "true"},
                                headers={
                                    "Authorization": f"Bearer {keys[conn.tenant]}",
                                    "x-connector-token": conn.token,
                                },
                            )
                        if answer.status_code == 202:
                            return
                    except httpx.HTTPError:
                        pass
                    await asyncio.sleep(1)
                failed_triggers += 1

            await asyncio.gather(*(resync(conns[i]) for i in sorted(touched)))
            print(
                f"asked {len(touched)} changed connections for a full sync "
                f"({failed_triggers} requests failed)"
            )
            await asyncio.sleep(1)
            await drained(engine, total, started + budget)
            sync_seconds = first_phase + time.monotonic() - final_started
        figures_task.cancel()
        await services.aclose()

        # --- checks --------------------------------------------------------------------------
        async with engine.connect() as connection:
            overlapping = int(
                (
                    await connection.execute(
                        text(
                            "SELECT count(*) FROM (SELECT started_at, lag(finished_at) OVER w "
                            "AS prev_end, lag(started_at) OVER w AS prev_start FROM sync_runs "
                            "WINDOW w AS (PARTITION BY connection_id ORDER BY started_at)) r "
                            "WHERE prev_start IS NOT NULL "
                            "AND (prev_end IS NULL OR prev_end > started_at)"
                        )
                    )
                ).scalar()
                or 0
            )
            runs = int(
                (await connection.execute(text("SELECT count(*) FROM sync_runs"))).scalar() or 0
            )
            rows = (
                await connection.execute(
                    text("SELECT connection_id, remote_id, remote_was_deleted FROM candidates")
                )
            ).all()
            done_jobs = int(
                (
                    await connection.execute(
                        text(
                            "SELECT count(*) FROM procrastinate_jobs "
                            "WHERE task_name = 'sync' AND status = 'succeeded'"
                        )
                    )
                ).scalar()
                or 0
            )
            delays = [
                float(d)
                for (d,) in (
                    await connection.execute(
                        text(
                            "SELECT EXTRACT(EPOCH FROM min(s.at) - d.at) FROM procrastinate_jobs j "
                            "JOIN procrastinate_events d ON d.job_id = j.id AND d.type = 'deferred' "
                            "JOIN procrastinate_events s ON s.job_id = j.id AND s.type = 'started' "
                            "WHERE j.task_name = 'sync' GROUP BY j.id, d.at"
                        )
                    )
                ).all()
            ]
            unsynced = total - int(
                (
                    await connection.execute(
                        text(
                            "SELECT count(DISTINCT connection_id) FROM sync_runs "
                            "WHERE state = 'succeeded'"
                        )
                    )
                ).scalar()
                or 0
            )
        stored: dict[str, dict[str, bool]] = {}
        for connection_id, remote_id, deleted in rows:
            stored.setdefault(str(connection_id), {})[remote_id] = deleted
        lost = wrong = 0
        async with httpx.AsyncClient(timeout=60) as vendor_client:
            live: dict[tuple[str, str], set[str]] = {}
            for vendor, root in emulators.items():
                state = (await vendor_client.get(f"{root}/_emulator/state")).json()
                for account in state["accounts"]:
                    live[(vendor, str(account["account"]))] = {
                        str(i) for i in account["remote_ids"]
                    }
        for conn in conns:
            account = account_settings(conn.vendor, "", int(conn.account))
            name = str(account.get(ACCOUNT_KEY.get(conn.vendor, "company_id")))
            vendor_ids = live[(conn.vendor, name)]
            mine = stored.get(conn.id, {})
            lost += sum(1 for i in vendor_ids if i not in mine or mine[i])
            wrong += sum(1 for i, deleted in mine.items() if deleted and i in vendor_ids)
        delays.sort()
        p95 = delays[int(0.95 * (len(delays) - 1))] if delays else 0.0
        jobs_per_s = done_jobs / sync_seconds if sync_seconds else 0.0
        alive = [mb for mb in figures.worker_rss_mb if mb]
        print(
            f"sync jobs={done_jobs} in {sync_seconds:.1f}s; queue delay median="
            f"{statistics.median(delays) if delays else 0:.1f}s p95={p95:.1f}s; "
            f"peak PostgreSQL connections={figures.pg_connections}; peak RSS per worker="
            f"{', '.join(f'{mb:.0f} MB' for mb in alive)}; unsynced connections={unsynced}; "
            f"total {time.monotonic() - started:.0f}s; logs in {logs}"
        )
        print(
            f"workers={args.workers} connections={total} runs={runs} "
            f"overlapping_runs={overlapping} wrongly_deleted={wrong} lost={lost} "
            f"jobs_per_s={jobs_per_s:.1f} p95_queue_delay_s={p95:.1f}"
        )
        return 1 if (overlapping or wrong or lost or unsynced or failed_triggers) else 0
    finally:
        for proc in [*workers, *procs]:
            proc.stop()
        await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="150 connections, < 3 minutes")
    parser.add_argument("--connections", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=2, help="worker processes (>= 2)")
    parser.add_argument("--concurrency", type=int, default=8, help="jobs per worker")
    parser.add_argument("--size", type=int, default=3, help="candidates per vendor account")
    parser.add_argument("--pg-url", default=PG_URL, help="PostgreSQL URL; its schema is reset")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if args.workers < 2:
        parser.error("--workers must be at least 2 (one is killed)")
    sys.exit(asyncio.run(run(args)))


if __name__ == "__main__":
    main()
