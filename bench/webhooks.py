"""Outbound webhooks (issue 15, item 7): delivery throughput of one worker, and what the outbox
costs a sync.

    uv run python -m bench.webhooks [--quick] [--events N] [--records M] [--repeats R]
                                    [--concurrency C] [--postgres URL]

1. Delivery: N ``candidate.created`` events written to the outbox the way a sync page writes
   them (``EventBatch`` in transactions of 100), one endpoint subscribed to ``*``, then one
   ``DeliveryWorker`` (the one ``Services.start`` wires, loopback allowed) drains them over real
   HTTP to a receiver process on loopback that counts requests, checks each ``webhook-id``
   arrives once, keeps a random sample (verified here with ``standardwebhooks``) and answers
   204. Baseline in the same run, before and after the worker: N bare ``httpx`` POSTs of the
   same body to the same receiver at the same concurrency. Target: >= 500 events/s.
2. Outbox cost: full Flatchr syncs of M records from the emulator (its own process) into a
   fresh store, each in a fresh process, alternating (ABBA) (a) with no webhook endpoint and
   (b) with one endpoint subscribed to ``*``; R of each, medians. Only the sync is timed.
   Target: cost ``1 - b/a`` <= 10 %.

Failures (failed attempts, undelivered events, receiver duplicates or misses, bad signatures,
failed bare POSTs) are counted and printed. ``--postgres URL``: the store is that database
instead of a SQLite file; its ``public`` schema is DROPPED and recreated for each store.
"""

import argparse
import asyncio
import contextlib
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx

from bench.common import report
from bench.emulator_server import settings_for
from bench.sync import emulator_process
from unified_ats.demo import free_port

EVENTS_PER_TRANSACTION = 100
SAMPLES = 200
"""Requests the receiver keeps (a uniform random sample) for signature checks."""


# --- the receiver (its own process) -------------------------------------------------------------


class Receiver:
    """A bare ASGI webhook receiver: counts, checks ``webhook-id`` uniqueness, answers 204.

    ``GET /_stats`` reports (with the sample); ``POST /_reset`` starts over.
    """

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.count = 0
        self.ids: set[str] = set()
        self.duplicates = 0
        self.without_id = 0
        self.samples: list[dict[str, Any]] = []

    def stats(self) -> dict[str, Any]:
        return {
            "count": self.count,
            "unique": len(self.ids),
            "duplicates": self.duplicates,
            "without_id": self.without_id,
            "samples": self.samples,
            "cpu_seconds": time.process_time(),
        }

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        path = scope["path"]
        if path == "/_stats":
            await self._answer(send, 200, json.dumps(self.stats()).encode())
            return
        if path == "/_reset":
            self.reset()
            await self._answer(send, 204)
            return
        self.count += 1
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        event_id = headers.get("webhook-id")
        if event_id is None:
            self.without_id += 1
        elif event_id in self.ids:
            self.duplicates += 1
        else:
            self.ids.add(event_id)
        # Reservoir sampling: a uniform sample whatever the count.
        sample = {"body": b"".join(chunks).decode(), "headers": headers}
        if len(self.samples) < SAMPLES:
            self.samples.append(sample)
        else:
            slot = random.randrange(self.count)
            if slot < SAMPLES:
                self.samples[slot] = sample
        await self._answer(send, 204)

    @staticmethod
    async def _answer(send: Any, status: int, body: bytes = b"") -> None:
        headers = [(b"content-type", b"application/json")] if body else []
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def receiver() -> Receiver:
    """The uvicorn factory: ``uvicorn bench.webhooks:receiver --factory``."""
    return Receiver()


def die_with_parent() -> None:
    """In a child, before exec: SIGKILL when the bench dies (Linux)."""
    with contextlib.suppress(OSError, AttributeError):
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


@contextlib.contextmanager
def receiver_process() -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "bench.webhooks:receiver",
            "--factory",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
            "--lifespan",
            "off",
            "--backlog",
            "4096",
        ],
        preexec_fn=die_with_parent,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{base}/_stats", timeout=1)
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("the receiver did not start") from None
                time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        process.wait()


async def receiver_stats(base: str, *, reset: bool = False) -> dict[str, Any]:
    async with httpx.AsyncClient(timeout=30) as client:
        stats: dict[str, Any] = (await client.get(f"{base}/_stats")).json()
        if reset:
            await client.post(f"{base}/_reset")
    return stats


# --- stores -------------------------------------------------------------------------------------


async def reset_postgres(url: str) -> None:
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            await connection.execute(text("CREATE SCHEMA public"))
    finally:
        await engine.dispose()


async def fresh_settings(data_dir: Path, postgres: str | None, concurrency: int) -> Any:
    """Settings for a new, empty store (SQLite file in ``data_dir``, or a reset PostgreSQL)."""
    from unified_ats.settings import Settings

    if postgres:
        await reset_postgres(postgres)
    return Settings(
        data_dir=data_dir,
        database_url=postgres,
        allow_base_url_override=True,
        webhook_allowed_targets="127.0.0.1/32",
        webhook_concurrency=concurrency,
    )


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


# --- 1. delivery --------------------------------------------------------------------------------


async def bare_posts(url: str, body: str, n: int, concurrency: int) -> dict[str, Any]:
    """The baseline: ``n`` POSTs of ``body`` with plain httpx, ``concurrency`` in flight."""
    limit = asyncio.Semaphore(concurrency)
    latencies: list[float] = []
    failures = 0
    content = body.encode()
    run = uuid.uuid4().hex[:8]

    async with httpx.AsyncClient(
        timeout=10,
        limits=httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency),
    ) as client:

        async def one(i: int) -> None:
            nonlocal failures
            async with limit:
                started = time.perf_counter()
                try:
                    response = await client.post(
                        url,
                        content=content,
                        headers={
                            "content-type": "application/json",
                            "webhook-id": f"bare_{run}_{i}",
                        },
                    )
                    if not 200 <= response.status_code < 300:
                        failures += 1
                except httpx.HTTPError:
                    failures += 1
                latencies.append((time.perf_counter() - started) * 1000)

        started, cpu = time.perf_counter(), time.process_time()
        await asyncio.gather(*(one(i) for i in range(n)))
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    return {
        "rate": (n - failures) / seconds,
        "seconds": seconds,
        "cpu_ms": cpu * 1000 / n,
        "failures": failures,
        "p50": percentile(latencies, 0.5),
        "p95": percentile(latencies, 0.95),
    }


def timed(totals: dict[str, float], name: str, method: Callable[..., Awaitable[Any]]) -> Any:
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return await method(*args, **kwargs)
        finally:
            totals[name] = totals.get(name, 0.0) + time.perf_counter() - started

    return wrapper


async def delivery(args: argparse.Namespace, receiver_base: str, data_dir: Path) -> dict[str, Any]:
    from sqlalchemy import func, select
    from standardwebhooks import Webhook

    from unified_ats.events.delivery import envelope
    from unified_ats.events.outbox import EventBatch, expand
    from unified_ats.services import Services
    from unified_ats.store.tables import OutboxEntry, WebhookDelivery, utcnow

    n = args.events
    url = f"{receiver_base}/hooks"
    settings = await fresh_settings(data_dir, args.postgres, args.concurrency)
    services = await Services.start(settings)
    try:
        tenant, _ = await services.accounts.create_tenant("bench")
        _, secret = await services.webhooks.create(tenant, url=url, events=["*"])
        sessions = services.records.sessions
        connection_id = uuid.uuid4()

        # The events, written as a sync page writes them.
        started = time.perf_counter()
        for first in range(0, n, EVENTS_PER_TRANSACTION):
            async with sessions.begin() as session:
                batch = await EventBatch.open(session, tenant_id=tenant)
                now = utcnow()
                pairs = [
                    (str(uuid.uuid4()), f"c{i}")
                    for i in range(first, min(n, first + EVENTS_PER_TRANSACTION))
                ]
                # Record events as a sync page writes them (ids only, unfolded when sent).
                for _, data in expand(
                    [{"type": "candidate.created", "records": pairs}], connection_id, now
                ):
                    batch.add("candidate.created", data)
                await batch.write(session, now=now)
        write_seconds = time.perf_counter() - started
        async with sessions() as session:
            entries = list((await session.scalars(select(OutboxEntry.events))).all())
        queued = sum(len(e) for e in entries)

        body = envelope(
            "candidate.created",
            utcnow(),
            next(
                expand(
                    [{"type": "candidate.created", "records": [(str(uuid.uuid4()), "c0")]}],
                    connection_id,
                    utcnow(),
                )
            )[1],
        )
        before = await receiver_stats(receiver_base, reset=True)
        bare_before = await bare_posts(url, body, n, args.concurrency)
        after = await receiver_stats(receiver_base, reset=True)
        bare_before["received"] = after["unique"]
        bare_before["receiver_cpu_ms"] = (after["cpu_seconds"] - before["cpu_seconds"]) * 1000 / n

        # One worker drains the outbox: dispatch to deliveries, then send them.
        worker = services.delivery
        phases: dict[str, float] = {}
        worker.dispatch = timed(phases, "dispatch", worker.dispatch)  # type: ignore[method-assign]
        worker._claim = timed(phases, "claim", worker._claim)  # type: ignore[method-assign]
        worker._record = timed(phases, "record", worker._record)  # type: ignore[method-assign]
        worker.deliver_due = timed(phases, "deliver_due", worker.deliver_due)  # type: ignore[method-assign]
        timed_out = False
        started, cpu = time.perf_counter(), time.process_time()
        try:
            await worker.drain(deadline=args.deadline)
        except TimeoutError:
            timed_out = True
        drain_seconds, drain_cpu = time.perf_counter() - started, time.process_time() - cpu
        received = await receiver_stats(receiver_base, reset=True)
        receiver_cpu = received["cpu_seconds"] - after["cpu_seconds"]

        bare_after = await bare_posts(url, body, n, args.concurrency)
        last = await receiver_stats(receiver_base, reset=True)
        bare_after["received"] = last["unique"]
        bare_after["receiver_cpu_ms"] = (last["cpu_seconds"] - received["cpu_seconds"]) * 1000 / n

        async with sessions() as session:
            rows = (
                await session.execute(
                    select(
                        WebhookDelivery.state,
                        WebhookDelivery.attempts,
                        WebhookDelivery.latency_ms,
                        WebhookDelivery.history,
                    )
                )
            ).all()
            left_in_outbox = await session.scalar(select(func.count()).select_from(OutboxEntry))
    finally:
        await services.aclose()

    succeeded = [r for r in rows if r.state == "succeeded"]
    failed_attempts = sum(1 for r in rows for h in (r.history or []) if h.get("error"))
    undelivered = n - len(succeeded)
    bad_signatures = 0
    verifier = Webhook(secret)
    for sample in received["samples"]:
        try:
            verifier.verify(sample["body"], sample["headers"])
        except Exception:
            bad_signatures += 1
    latencies = [r.latency_ms for r in succeeded if r.latency_ms is not None]
    return {
        "events": n,
        "queued": queued,
        "write_seconds": write_seconds,
        "deliveries": len(rows),
        "succeeded": len(succeeded),
        "failed_attempts": failed_attempts,
        "undelivered": undelivered,
        "left_in_outbox": left_in_outbox or 0,
        "timed_out": timed_out,
        "seconds": drain_seconds,
        "rate": len(succeeded) / drain_seconds,
        "cpu_ms": drain_cpu * 1000 / max(1, len(succeeded)),
        "receiver_cpu_ms": receiver_cpu * 1000 / max(1, received["count"]),
        "p50": percentile(latencies, 0.5),
        "p95": percentile(latencies, 0.95),
        "phases": phases,
        "received": received["count"],
        "received_unique": received["unique"],
        "duplicates": received["duplicates"],
        "without_id": received["without_id"],
        "verified": len(received["samples"]) - bad_signatures,
        "bad_signatures": bad_signatures,
        "bare_before": bare_before,
        "bare_after": bare_after,
    }


# --- 2. outbox cost on the sync rate ------------------------------------------------------------


async def sync_once(
    base_url: str, receiver_base: str, data_dir: Path, postgres: str | None, subscribed: bool
) -> dict[str, Any]:
    """One full Flatchr sync into a fresh store; only ``services.sync`` is timed."""
    from sqlalchemy import select

    from unified_ats.events.outbox import expand
    from unified_ats.onboarding import connect
    from unified_ats.services import Services
    from unified_ats.store.tables import OutboxEntry

    services = await Services.start(await fresh_settings(data_dir, postgres, 64))
    try:
        tenant, _ = await services.accounts.create_tenant("bench")
        if subscribed:
            await services.webhooks.create(tenant, url=f"{receiver_base}/hooks", events=["*"])
        connection, _, _ = await connect(
            services, tenant, "flatchr", settings_for("flatchr", base_url), sync_now=False
        )
        started = time.perf_counter()
        result = await services.sync(connection.id, full=True)
        seconds = time.perf_counter() - started
        async with services.records.sessions() as session:
            entries = (await session.execute(select(OutboxEntry))).scalars().all()
            events = sum(
                1 for e in entries for _ in expand(e.events, e.connection_id, e.created_at)
            )
    finally:
        await services.aclose()
    return {
        "seen": result.seen,
        "quarantined": result.quarantined,
        "incomplete": result.incomplete_reason,
        "seconds": seconds,
        "rate": result.seen / seconds,
        "events": events,
    }


def sync_in_child(
    base_url: str, receiver_base: str, postgres: str | None, subscribed: bool
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        command = [
            sys.executable,
            "-m",
            "bench.webhooks",
            "--child-sync",
            json.dumps([base_url, receiver_base, tmp, postgres, subscribed]),
        ]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"a sync run failed:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def outbox_cost(args: argparse.Namespace, receiver_base: str) -> dict[str, Any]:
    runs: dict[bool, list[dict[str, Any]]] = {False: [], True: []}
    with emulator_process("flatchr", args.records, 0.0) as base_url:
        for repeat in range(args.repeats):
            order = (False, True) if repeat % 2 == 0 else (True, False)  # ABBA
            for subscribed in order:
                runs[subscribed].append(
                    sync_in_child(base_url, receiver_base, args.postgres, subscribed)
                )
    a = statistics.median(r["rate"] for r in runs[False])
    b = statistics.median(r["rate"] for r in runs[True])
    return {"without": runs[False], "with": runs[True], "a": a, "b": b, "cost": 1 - b / a}


# --- main ---------------------------------------------------------------------------------------


def main(args: argparse.Namespace) -> int:
    cores = os.cpu_count()
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else cores
    store = "PostgreSQL" if args.postgres else "SQLite file"
    print(
        f"machine: {cores} cores ({usable} usable); store: {store}; events={args.events} "
        f"records={args.records} repeats={args.repeats} concurrency={args.concurrency}",
        flush=True,
    )
    with receiver_process() as receiver_base, tempfile.TemporaryDirectory() as tmp:
        d = asyncio.run(delivery(args, receiver_base, Path(tmp)))
        cost = outbox_cost(args, receiver_base)

    bare = max(d["bare_before"]["rate"], d["bare_after"]["rate"])
    ratio = d["rate"] / bare
    phases = d["phases"]
    send = phases.get("deliver_due", 0.0) - phases.get("claim", 0.0) - phases.get("record", 0.0)
    bare_failures = d["bare_before"]["failures"] + d["bare_after"]["failures"]
    bare_missing = sum(
        max(0, args.events - b["failures"] - b["received"])
        for b in (d["bare_before"], d["bare_after"])
    )
    receiver_missing = max(0, d["succeeded"] - d["received_unique"])
    failures = (
        d["failed_attempts"]
        + d["undelivered"]
        + d["duplicates"]
        + d["without_id"]
        + receiver_missing
        + d["bad_signatures"]
        + bare_failures
        + bare_missing
    )
    rows = [
        (
            "outbox",
            f"{d['queued']:,} events queued in {d['write_seconds']:.2f} s "
            f"({EVENTS_PER_TRANSACTION} per transaction)",
        ),
        (
            "worker",
            f"{d['rate']:8,.0f} events/s  ({d['succeeded']:,} delivered in "
            f"{d['seconds']:.2f} s; latency p50 {d['p50']:.1f} ms p95 {d['p95']:.1f} ms)",
        ),
        (
            "  of which",
            f"dispatch {phases.get('dispatch', 0):.2f} s | claim "
            f"{phases.get('claim', 0):.2f} s | send {send:.2f} s | record {phases.get('record', 0):.2f} s",
        ),
        (
            "bare httpx",
            f"{d['bare_before']['rate']:8,.0f} / {d['bare_after']['rate']:,.0f} req/s "
            f"(before / after the worker; p50 {d['bare_before']['p50']:.1f} ms p95 "
            f"{d['bare_before']['p95']:.1f} ms; failures {bare_failures}, missing at the receiver {bare_missing})",
        ),
        ("ratio", f"{ratio:.2f}x of bare httpx (best of the two)  — target >= 500 events/s"),
        (
            "CPU",
            f"worker {d['cpu_ms']:.2f} ms/event (≈ {1000 / d['cpu_ms']:,.0f} events/s on a free "
            f"core) | bare httpx {d['bare_before']['cpu_ms']:.2f} / {d['bare_after']['cpu_ms']:.2f} "
            f"ms/request | receiver {d['receiver_cpu_ms']:.2f} ms/request (bare: "
            f"{d['bare_before']['receiver_cpu_ms']:.2f})",
        ),
        (
            "failures",
            f"failed attempts {d['failed_attempts']} | undelivered {d['undelivered']} | "
            f"left in outbox {d['left_in_outbox']} | drain timed out {d['timed_out']}",
        ),
        (
            "receiver",
            f"{d['received']:,} requests, {d['received_unique']:,} distinct webhook-id, "
            f"{d['duplicates']} duplicates, {d['without_id']} without id; signatures verified "
            f"{d['verified']}/{d['verified'] + d['bad_signatures']} sampled",
        ),
    ]
    report(
        f"1. Delivery: one DeliveryWorker to a loopback receiver, concurrency {args.concurrency}",
        rows,
    )
    rows = []
    for label, key in (("(a) no endpoint", "without"), ("(b) endpoint '*'", "with")):
        runs = cost[key]
        rates = " ".join(f"{r['rate']:,.0f}" for r in runs)
        rows.append(
            (
                label,
                f"median {statistics.median(r['rate'] for r in runs):8,.0f} rec/s "
                f"(runs: {rates}; seen {runs[0]['seen']:,}; outbox events {runs[0]['events']:,})",
            )
        )
        odd = [r for r in runs if r["quarantined"] or r["incomplete"]]
        if odd:
            rows.append(("  warning", f"{len(odd)} runs quarantined records or were incomplete"))
    rows.append(("cost", f"{cost['cost'] * 100:+.1f} % of the sync rate (target <= 10 %)"))
    report(
        f"2. Outbox cost: full Flatchr sync of {args.records:,} records, ABBA x{args.repeats}, "
        "each in a fresh process and store",
        rows,
    )
    if any(r["events"] for r in cost["without"]):
        failures += 1
        print("  ERROR: syncs without an endpoint wrote outbox events")
    if not all(r["events"] for r in cost["with"]):
        failures += 1
        print("  ERROR: a sync with an endpoint wrote no outbox event")
    print(
        f"delivery_events_per_s={d['rate']:.0f} delivery_ratio_vs_bare={ratio:.2f} "
        f"outbox_sync_cost_pct={cost['cost'] * 100:.1f} failures={failures}"
    )
    return 0


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="1,000 events and 2,000 records")
    parser.add_argument("--events", type=int, help="events delivered (default 5,000)")
    parser.add_argument("--records", type=int, help="records per sync (default 10,000)")
    parser.add_argument("--repeats", type=int, default=3, help="syncs of each kind (ABBA)")
    parser.add_argument("--concurrency", type=int, default=64, help="requests in flight")
    parser.add_argument("--deadline", type=float, default=600.0, help="drain deadline (s)")
    parser.add_argument(
        "--postgres", metavar="URL", help="PostgreSQL store (its public schema is DROPPED)"
    )
    args = parser.parse_args(argv)
    args.events = args.events or (1_000 if args.quick else 5_000)
    args.records = args.records or (2_000 if args.quick else 10_000)
    return args


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--child-sync":
        base_url, receiver_base, data_dir, postgres, subscribed = json.loads(sys.argv[2])
        result = asyncio.run(
            sync_once(base_url, receiver_base, Path(data_dir), postgres, subscribed)
        )
        print(json.dumps(result))
    else:

        def terminated(*_: object) -> None:
            raise KeyboardInterrupt  # ends in the finally blocks: no server left over

        signal.signal(signal.SIGTERM, terminated)
        sys.exit(main(parse(sys.argv[1:])))
