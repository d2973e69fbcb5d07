"""Fault soak: the service against three standalone vendor emulators, every fault injected
while it syncs and serves reads, then the store compared with the vendors' state.

    uv run python -m bench.chaos [--quick | --smoke] [--database sqlite|postgres] [--seed N]

Processes (all on 127.0.0.1, each in its own process group, all killed at the end):
``unified-ats emulator flatchr|welcomekit|viasto`` and ``unified-ats serve`` with its own data
dir, a short sync lease, a short read deadline and a scheduler that fires during the run.

Phases, each under load (bursts of concurrent ``POST /sync-status?full=true`` plus incremental
triggers, ``GET /candidates/{id}`` with ``Cache-Control: no-cache``, downloads, lists, status
polls) while the vendors create, update and delete candidates (``/_emulator/change``):

- the vendor faults through ``/_emulator/faults``: 401, 404 (everywhere, then only beside the
  record), a 429 storm with ``Retry-After``, 5xx for a few requests (500, 502, 503), a hang
  that is then lifted, malformed JSON, odd paging (capped, uneven pages, relative links) and
  listings short of the vendor's own total (``unlisted_records``);
- oversize values: through every vendor's listings (the emulators' ``oversize_values``: the
  first record of each listing carries 300,000-character names), and through Flatchr's webhook
  (a live applicant, names of growing size up to past any sane limit);
- ``kill -9`` of the service while a sync runs, then a restart on the same store: the killed
  run must show ``abandoned`` and a new full run must start within the lease and resume it.

During the 404 phase single reads are paused for Welcome Kit and viasto: a 404 on a record's
own route is the vendor's word that the record is gone, and the service marks it deleted by
contract. Flatchr has no single-applicant route (a read is a company-wide search), so its reads
go on: no 404 there says that one applicant is gone. A second 404 phase limits the 404 to
routes beside the record (Welcome Kit's ``/documents``, Flatchr's ``/files``) while the
record's own route answers, with every read on.

Checks: after every phase, ``wrongly_deleted`` (stored rows marked ``remote_was_deleted``
whose id the vendor still lists: a wrong deletion that a later sync heals is still a bug).
At the end, faults cleared, one full sync per connection until it succeeds, then per
connection ``lost`` (ids the vendor lists that the store does not hold live) and
``stale_after_sync`` (ids the vendor changed, by ``/_emulator/change`` update or our oversize
webhook, whose stored names, e-mails or phones still differ from what a fresh read from the
vendor gives). The last line is ``faults=F requests=R lost=L wrongly_deleted=W
stale_after_sync=S``; the exit status is 1 when L, W or S is non-zero, or when the service
answered a 500 (or its unhandled-error 503), did not answer in time, answered a status a route
never should, or did not recover from the kill.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
API = "/api/ats/v1"
VENDORS = ("flatchr", "welcomekit", "viasto")
PG_URL = os.environ.get(
    "UNIFIED_ATS_CHAOS_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/chaos"
)
UNHANDLED_DETAIL = "the server could not complete this request; retry"
COMPARED_FIELDS = ("first_name", "last_name", "email_addresses", "phone_numbers")
HTTP_TIMEOUT = 30.0
"""Longer than any answer the service should take (read deadline, downloads): past it, a hang."""


@dataclass(frozen=True)
class Mode:
    name: str
    size: int
    """Candidates per emulator account at start."""
    phase_seconds: float
    rounds: int
    """How many times the whole fault cycle runs."""
    hang_seconds: float
    lease_seconds: float
    interval_seconds: float
    """The service's scheduler interval (it must fire during the run)."""
    read_deadline: float
    change_every: float
    """Mean seconds between two vendor-side changes."""
    final_sync_seconds: float
    """Bound on waiting for one final full sync."""


MODES = {
    "smoke": Mode("smoke", 12, 0.8, 1, 0.8, 3.0, 4.0, 1.5, 0.3, 45.0),
    "quick": Mode("quick", 30, 3.0, 1, 2.5, 3.0, 5.0, 2.0, 0.5, 60.0),
    "soak": Mode("soak", 150, 10.0, 3, 5.0, 3.0, 8.0, 2.0, 0.7, 180.0),
}


# --- processes ---------------------------------------------------------------------------------


def die_with_parent() -> None:
    """In the child, before exec: SIGKILL when the bench dies, even by SIGKILL (Linux)."""
    with contextlib.suppress(OSError, AttributeError):
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


class Proc:
    """A subprocess in its own process group, its output in files under the run's directory."""

    def __init__(self, name: str, args: list[str], env: dict[str, str], logs: Path) -> None:
        self.name = name
        self.out_path = logs / f"{name}.out"
        self.err_path = logs / f"{name}.err"
        with self.out_path.open("ab") as out, self.err_path.open("ab") as err:
            self.popen = subprocess.Popen(
                args,
                env=env,
                cwd=logs,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                start_new_session=True,
                preexec_fn=die_with_parent,
            )

    def signal_group(self, sig: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.popen.pid, sig)

    def kill9(self) -> None:
        self.signal_group(signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(timeout=10)

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.signal_group(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.popen.wait(timeout=8)
        self.signal_group(signal.SIGKILL)  # whatever is left in its group
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(timeout=5)

    def tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.err_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "unified_ats.cli", *args]


# --- the vendors -------------------------------------------------------------------------------


@dataclass
class Emulator:
    vendor: str
    proc: Proc
    base_url: str
    settings: dict[str, Any]
    control: httpx.AsyncClient = field(init=False)
    updated: dict[str, float] = field(default_factory=dict)
    """remote id -> when the vendor changed it (change API update, our oversize webhook)."""
    created: int = 0
    deleted: int = 0
    live_count: int = 0

    def __post_init__(self) -> None:
        self.control = httpx.AsyncClient(base_url=self.base_url, timeout=15)

    async def faults(self, switches: dict[str, Any]) -> None:
        (await self.control.post("/_emulator/faults", json=switches)).raise_for_status()

    async def clear(self) -> None:
        (await self.control.delete("/_emulator/faults")).raise_for_status()

    async def change(self, action: str, count: int) -> list[str]:
        response = await self.control.post(
            "/_emulator/change", json={"action": action, "count": count}
        )
        response.raise_for_status()
        ids = [str(i) for i in response.json()["ids"]]
        if action == "update":
            self.updated.update(dict.fromkeys(ids, time.monotonic()))
        elif action == "create":
            self.created += len(ids)
        else:
            self.deleted += len(ids)
        return ids

    async def live(self) -> set[str]:
        response = await self.control.get("/_emulator/state")
        response.raise_for_status()
        ids = {str(i) for account in response.json()["accounts"] for i in account["remote_ids"]}
        self.live_count = len(ids)
        return ids


async def start_emulator(vendor: str, size: int, logs: Path, env: dict[str, str]) -> Emulator:
    proc = Proc(vendor, cli("emulator", vendor, "--port", "0", "--size", str(size)), env, logs)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.popen.poll() is None:
        text = proc.out_path.read_text(errors="replace")
        if "\n" in text:
            info = json.loads(text.splitlines()[0])
            return Emulator(vendor, proc, info["base_url"], info["settings"])
        await asyncio.sleep(0.05)
    proc.stop()
    raise RuntimeError(f"emulator {vendor} did not start:\n{proc.tail()}")


# --- the service -------------------------------------------------------------------------------

EXPECTED = {
    # kind of request -> what the service may answer while vendors misbehave
    "trigger": {202},
    "status": {200},
    "list": {200},
    "read": {200, 404, 429, 502, 503, 504},
    "download": {200, 404, 429, 502, 503, 504},
    "webhook": {200, 400, 413, 422},
    "connect": {201},
    "health": {200},
}


@dataclass
class Figures:
    requests: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    unhandled: list[str] = field(default_factory=list)
    unexpected: Counter[str] = field(default_factory=Counter)
    timeouts: list[str] = field(default_factory=list)
    refused: int = 0
    """Transport errors (expected only while the service is down after the kill)."""


class Service:
    """``unified-ats serve`` as a subprocess, and a client that counts what it asks."""

    def __init__(self, env: dict[str, str], logs: Path, port: int) -> None:
        self.env = env
        self.logs = logs
        self.port = port
        self.base_url = f"http://127.0.0.1:{port}"
        self.proc: Proc | None = None
        self.starts = 0
        self.client = httpx.AsyncClient(
            base_url=self.base_url,
            timeout=HTTP_TIMEOUT,
            limits=httpx.Limits(max_connections=50, max_keepalive_connections=20),
        )
        self.figures = Figures()
        self.api_key = ""

    async def start(self) -> None:
        self.starts += 1
        args = cli("serve", "--host", "127.0.0.1", "--port", str(self.port))
        self.proc = Proc(f"service-{self.starts}", args, self.env, self.logs)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and self.proc.popen.poll() is None:
            self.figures.requests += 1
            with contextlib.suppress(httpx.TransportError):
                if (await self.client.get("/health", timeout=2)).status_code == 200:
                    return
            await asyncio.sleep(0.1)
        raise RuntimeError(f"the service did not start:\n{self.proc.tail()}")

    def kill9(self) -> None:
        assert self.proc is not None
        self.proc.kill9()

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.stop()

    def log_text(self) -> str:
        return "\n".join(
            path.read_text(errors="replace") for path in sorted(self.logs.glob("service-*.err"))
        )

    async def call(
        self,
        kind: str,
        method: str,
        path: str,
        *,
        token: str | None = None,
        headers: dict[str, str] | None = None,
        stream: bool = False,
        **kwargs: Any,
    ) -> httpx.Response | None:
        """One request to the service, counted and classified; None on a transport error."""
        sent = {"Authorization": f"Bearer {self.api_key}", **(headers or {})}
        if token:
            sent["x-connector-token"] = token
        self.figures.requests += 1
        label = f"{method} {kind}"
        try:
            if stream:
                async with self.client.stream(method, path, headers=sent, **kwargs) as response:
                    if response.status_code == 200:
                        async for _ in response.aiter_bytes():
                            pass
                    else:
                        await response.aread()
            else:
                response = await self.client.request(method, path, headers=sent, **kwargs)
        except httpx.TimeoutException:
            self.figures.timeouts.append(f"{label} {path}")
            return None
        except httpx.TransportError:
            self.figures.refused += 1
            return None
        status = response.status_code
        self.figures.statuses[status] += 1
        if status == 500 or (status == 503 and self._unhandled(response)):
            self.figures.unhandled.append(f"{label} -> {status}")
        elif status not in EXPECTED[kind]:
            self.figures.unexpected[f"{label} -> {status}"] += 1
        return response

    @staticmethod
    def _unhandled(response: httpx.Response) -> bool:
        try:
            return bool(response.json().get("detail") == UNHANDLED_DETAIL)
        except (ValueError, AttributeError):
            return False


@dataclass
class Connection:
    vendor: str
    emulator: Emulator
    token: str
    webhook_url: str
    rows: dict[str, dict[str, Any]] = field(default_factory=dict)
    """remote id -> the stored candidate (last listing, deleted ones included)."""
    states: Counter[str] = field(default_factory=Counter)
    """Sync states seen by status polls."""

    def live_rows(self) -> list[dict[str, Any]]:
        return [r for r in self.rows.values() if not r["remote_was_deleted"]]


def parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


# --- the soak ----------------------------------------------------------------------------------


@dataclass
class PhaseFigures:
    name: str
    faults: int
    requests: int
    seconds: float
    statuses: Counter[int]
    wrongly_deleted: int
    states: Counter[str]
    note: str = ""


@dataclass
class Mark:
    """Counters at the start of a phase."""

    requests: int
    statuses: Counter[int]
    states: Counter[str]
    faults: int
    started: float


class Soak:
    def __init__(self, mode: Mode, service: Service, rng: random.Random, console: Console) -> None:
        self.mode = mode
        self.service = service
        self.rng = rng
        self.console = console
        self.connections: dict[str, Connection] = {}
        self.faults = 0
        self.current = "setup"
        self.changes: Counter[str] = Counter()
        self.triggers: Counter[str] = Counter()
        self.wrong: dict[tuple[str, str], str] = {}
        """(vendor, remote id) -> the phase after which it was first found wrongly deleted."""
        self.read_404: dict[tuple[str, str], str] = {}
        """(vendor, remote id) -> the phase in which a single read of it answered 404."""
        self.phases: list[PhaseFigures] = []
        self.oversize: list[str] = []
        self.kill: dict[str, Any] = {}
        self.results: dict[str, dict[str, Any]] = {}
        self.no_reads: set[str] = set()
        self.no_triggers = False

    # -- the service's routes --------------------------------------------------------------

    async def sync_status(self, conn: Connection) -> dict[str, Any] | None:
        response = await self.service.call("status", "GET", f"{API}/sync-status", token=conn.token)
        if response is None or response.status_code != 200:
            return None
        body: dict[str, Any] = response.json()
        conn.states[body["state"]] += 1
        return body

    async def trigger(self, conn: Connection, *, full: bool) -> str | None:
        params = {"full": "true"} if full else {}
        response = await self.service.call(
            "trigger", "POST", f"{API}/sync-status", token=conn.token, params=params
        )
        if response is None or response.status_code != 202:
            return None
        status: str = response.json()["status"]
        self.triggers[f"{'full' if full else 'auto'} {status}"] += 1
        return status

    async def listing(self, conn: Connection) -> dict[str, dict[str, Any]] | None:
        """Every stored candidate of the connection, deleted ones included (None: failed)."""
        rows: dict[str, dict[str, Any]] = {}
        cursor: str | None = None
        for _ in range(200):  # pages of 200: far more than the accounts ever hold
            params: dict[str, Any] = {"page_size": 200, "include_deleted": "true"}
            if cursor:
                params["cursor"] = cursor
            response = await self.service.call(
                "list", "GET", f"{API}/candidates", token=conn.token, params=params
            )
            if response is None or response.status_code != 200:
                return None
            page = response.json()
            for item in page["items"]:
                rows[str(item["remote_id"])] = item
            cursor = page["cursor"]
            if not cursor:
                return rows
        return None

    async def check_deletions(self, phase: str) -> int:
        """Stored rows marked deleted that the vendor still lists; returns how many are new.

        The store is listed first, then the vendor: a vendor deletion is final and a created id
        is new, so an id the vendor lists afterwards was live when the store was listed."""
        new = 0
        for conn in self.connections.values():
            rows = await self.listing(conn)
            if rows is None:  # lists never touch the vendor: a failure here is the service's
                raise RuntimeError(f"could not list {conn.vendor}'s stored candidates")
            conn.rows = rows
            live = await conn.emulator.live()
            for remote_id, row in rows.items():
                key = (conn.vendor, remote_id)
                if row["remote_was_deleted"] and remote_id in live and key not in self.wrong:
                    self.wrong[key] = phase
                    new += 1
        return new

    @staticmethod
    async def until(
        seconds: float, probe: Callable[[], Awaitable[Any]], *, every: float = 0.2
    ) -> Any:
        """Poll ``probe`` until it answers something truthy, for at most ``seconds``."""
        deadline = time.monotonic() + seconds
        while True:
            result = await probe()
            if result or time.monotonic() >= deadline:
                return result
            await asyncio.sleep(every)

    # -- load ------------------------------------------------------------------------------

    async def storm(self, seconds: float, *, changes: bool = True) -> None:
        stop = time.monotonic() + seconds
        work = [self.trigger_loop(stop), self.read_loop(stop), self.read_loop(stop)]
        work += [self.download_loop(stop), self.list_loop(stop)]
        if changes:
            work.append(self.change_loop(stop))
        await asyncio.gather(*work)

    def pick(self) -> Connection:
        return self.rng.choice(list(self.connections.values()))

    async def trigger_loop(self, stop: float) -> None:
        for _ in range(1000):
            if time.monotonic() >= stop:
                return
            if self.no_triggers:
                await asyncio.sleep(0.1)
                continue
            conn = self.pick()
            burst = [self.trigger(conn, full=True) for _ in range(3)]
            burst.append(self.trigger(conn, full=False))
            await asyncio.gather(*burst, self.sync_status(conn))
            await asyncio.sleep(self.rng.uniform(0.3, 0.8))

    async def read_loop(self, stop: float) -> None:
        for _ in range(5000):
            if time.monotonic() >= stop:
                return
            conn = self.pick()
            rows = conn.live_rows()
            if conn.vendor in self.no_reads or not rows:
                await asyncio.sleep(0.05)
                continue
            row = self.rng.choice(rows)
            headers = {"Cache-Control": "no-cache"} if self.rng.random() < 0.8 else {}
            response = await self.service.call(
                "read", "GET", f"{API}/candidates/{row['id']}", token=conn.token, headers=headers
            )
            if response is not None and response.status_code == 404:
                self.read_404.setdefault((conn.vendor, str(row["remote_id"])), self.current)
            await asyncio.sleep(self.rng.uniform(0.05, 0.2))

    async def download_loop(self, stop: float) -> None:
        for _ in range(2000):
            if time.monotonic() >= stop:
                return
            conn = self.pick()
            files = [a for r in conn.live_rows() for a in (r.get("attachments") or [])]
            if not files:
                await asyncio.sleep(0.05)
                continue
            attachment = self.rng.choice(files)
            attachment_id = attachment["id"] if isinstance(attachment, dict) else attachment
            await self.service.call(
                "download",
                "GET",
                f"{API}/attachments/{attachment_id}/download",
                token=conn.token,
                stream=True,
            )
            await asyncio.sleep(self.rng.uniform(0.2, 0.5))

    async def list_loop(self, stop: float) -> None:
        for _ in range(2000):
            if time.monotonic() >= stop:
                return
            await self.service.call(
                "list",
                "GET",
                f"{API}/candidates",
                token=self.pick().token,
                params={"page_size": 50, "include_deleted": "true"},
            )
            await asyncio.sleep(self.rng.uniform(0.2, 0.5))

    async def change_loop(self, stop: float) -> None:
        for _ in range(1000):
            if time.monotonic() >= stop:
                return
            emulator = self.pick().emulator
            action = self.rng.choices(("create", "update", "delete"), (3, 5, 2))[0]
            if action == "delete" and emulator.live_count <= self.mode.size * 0.7:
                action = "create"  # keep the accounts from draining
            count = self.rng.randint(1, 2)
            try:
                await emulator.change(action, count)
            except httpx.HTTPError as exc:
                self.changes[f"refused ({type(exc).__name__})"] += 1
            else:
                emulator.live_count += {"create": count, "delete": -count}.get(action, 0)
                self.changes[action] += count
            await asyncio.sleep(self.mode.change_every * self.rng.uniform(0.5, 1.5))

    # -- phases ----------------------------------------------------------------------------

    def _states(self) -> Counter[str]:
        total: Counter[str] = Counter()
        for conn in self.connections.values():
            total.update(conn.states)
        return total

    def mark(self, name: str) -> Mark:
        self.current = name
        self.console.log(f"phase: {name}")
        figures = self.service.figures
        return Mark(
            figures.requests, figures.statuses.copy(), self._states(), self.faults, time.monotonic()
        )

    async def record(self, name: str, mark: Mark, note: str = "") -> None:
        new_wrong = await self.check_deletions(name)
        figures = self.service.figures
        self.phases.append(
            PhaseFigures(
                name,
                self.faults - mark.faults,
                figures.requests - mark.requests,
                time.monotonic() - mark.started,
                figures.statuses - mark.statuses,
                new_wrong,
                self._states() - mark.states,
                note,
            )
        )

    async def phase(
        self,
        name: str,
        switches: dict[str, dict[str, Any]],
        *,
        hang: bool = False,
        no_reads: tuple[str, ...] = (),
        note: str = "",
    ) -> None:
        """Inject ``switches`` (vendor -> fault switches) under load, lift them, check."""
        mark = self.mark(name)
        self.no_reads = set(no_reads)
        try:
            for vendor, switch in switches.items():
                await self.connections[vendor].emulator.faults(switch)
                self.faults += 1
            if hang:  # hang a while, lift it (hanging requests are then served), go on
                await self.storm(self.mode.hang_seconds)
                for vendor in switches:
                    await self.connections[vendor].emulator.clear()
            await self.storm(self.mode.phase_seconds)
        finally:
            self.no_reads = set()
            for vendor in switches:
                await self.connections[vendor].emulator.clear()
        await self.record(name, mark, note)

    async def cycle(self) -> None:
        """Every vendor fault once, each under load."""

        def each(switch: dict[str, Any]) -> dict[str, dict[str, Any]]:
            return {vendor: dict(switch) for vendor in VENDORS}

        await self.phase("401", each({"fail_status": 401}))
        await self.phase(
            "404",
            each({"fail_status": 404}),
            no_reads=("welcomekit", "viasto"),
            note="welcomekit/viasto single reads paused (404 on a record's route = gone)",
        )
        company = self.connections["flatchr"].emulator.settings["company_id"]
        await self.phase(
            "404 beside the record",
            {
                "welcomekit": {"fail_status": 404, "paths": ["/api/v1/external/documents"]},
                "flatchr": {"fail_status": 404, "paths": [f"/company/{company}/files"]},
            },
            note="welcomekit /documents, flatchr /files: the record's own route answers",
        )
        await self.phase("429 storm", each({"rate_limit_storm": True, "retry_after": "1"}))
        await self.phase(
            "5xx x3",
            {
                "flatchr": {"fail_status": 500, "fail_count": 3},
                "welcomekit": {"fail_status": 502, "fail_count": 3},
                "viasto": {"fail_status": 503, "fail_count": 3, "retry_after": "1"},
            },
        )
        await self.phase(
            "hang",
            each({"hang": True}),
            hang=True,
            note=f"lifted after {self.mode.hang_seconds:g} s",
        )
        await self.phase("malformed JSON", each({"malformed_json": True}))
        await self.phase(
            "odd paging",
            {
                "welcomekit": {"page_size_cap": 3, "uneven_pages": True},
                "viasto": {"page_size_cap": 3, "uneven_pages": True, "relative_next": True},
            },
            note="flatchr ignores paging switches",
        )
        await self.phase(
            "short listing",
            {v: {"unlisted_records": 2} for v in ("welcomekit", "viasto")},
            note="the last 2 of each listing left out, the vendor's total still counts them",
        )
        await self.phase(
            "oversize listings",
            each({"oversize_values": 300_000}),
            note="the first record of every listing carries 300,000-character names",
        )
        await self.oversize_phase()

    async def oversize_phase(self) -> None:
        """Oversize vendor values through Flatchr's webhook, for live applicants, under load."""
        from connectors.flatchr.emulator import FlatchrEmulator
        from unified_ats.demo.emulators import DEMO_FLATCHR_COMPANY, flatchr

        name = "oversize values"
        mark = self.mark(name)
        conn = self.connections["flatchr"]
        emulator = flatchr(port=1, size=self.mode.size).emulator  # the subprocess's seeded data
        assert isinstance(emulator, FlatchrEmulator)
        company = emulator.companies[DEMO_FLATCHR_COMPANY]
        live = await conn.emulator.live()
        # The newest seeded applicants (deletions take the oldest first).
        targets = [a for a in reversed(list(company.applicants)) if a in live][:4]
        load = asyncio.create_task(self.storm(self.mode.phase_seconds))
        answers = []
        try:
            for applicant, size in zip(targets, (2_000, 70_000, 300_000, 2_500_000), strict=False):
                payload = emulator.webhook_payload(DEMO_FLATCHR_COMPANY, applicant)
                candidate = payload["data"]["candidate"]
                candidate["firstname"] = "É" * (size // 2)
                candidate["lastname"] = "x" * size
                candidate["phone"] = "+33 6 " + "1" * min(size, 100_000)
                self.faults += 1
                response = await self.service.call(
                    "webhook",
                    "POST",
                    conn.webhook_url.removeprefix(self.service.base_url),
                    content=json.dumps(payload).encode(),
                    headers={"Content-Type": "application/json"},
                )
                answer = "no answer" if response is None else str(response.status_code)
                answers.append(f"{size:,} chars: {answer}")
                if response is not None and response.status_code == 200:
                    # The store holds our values now; the final sync must bring the vendor's.
                    conn.emulator.updated[applicant] = time.monotonic()
                await asyncio.sleep(self.mode.phase_seconds / 5)
        finally:
            await load
        self.oversize = answers
        await self.record(name, mark, note="flatchr webhook: " + ", ".join(answers))

    async def kill_phase(self) -> None:
        """kill -9 the service while a sync runs; restart it on the same store: the killed run
        shows ``abandoned`` and a new full run starts within the lease and resumes it."""
        name = "kill -9 mid-sync"
        mark = self.mark(name)
        conn = self.connections["viasto"]
        lease = self.mode.lease_seconds
        # Slow, small pages: the run is surely going (pages written) when killed, and the
        # resuming run lasts long enough to be seen.
        await conn.emulator.faults({"latency": 0.15, "page_size_cap": 2})
        self.faults += 1

        async def going() -> dict[str, Any] | None:
            status = await self.sync_status(conn)
            return status if status and status["state"] == "running" and status["seen"] else None

        running = None
        for _ in range(3):
            await self.trigger(conn, full=True)
            running = await self.until(15, going, every=0.1)
            if running:
                break
        self.kill["running when killed"] = bool(running)
        self.kill["seen before kill"] = running["seen"] if running else 0

        async def abandoned() -> dict[str, Any] | None:
            status = await self.sync_status(conn)
            return status if status and status["state"] == "abandoned" else None

        async def new_run() -> dict[str, Any] | None:
            status = await self.sync_status(conn)
            started = status and status["last_started_at"]
            return status if started and parse_time(started) > killed_at else None

        # Reads, downloads, lists and vendor changes go on across the kill and the restart.
        # Triggers wait until the killed run showed `abandoned`: a new run would hide it.
        self.no_triggers = True
        load = asyncio.create_task(self.storm(lease * 2))
        try:
            killed_at = datetime.now(UTC)
            self.service.kill9()
            self.faults += 1
            self.console.log(
                "service killed (SIGKILL) during a sync; restarting it on the same store"
            )
            restart = time.monotonic()
            await self.service.start()
            self.kill["restart s"] = round(time.monotonic() - restart, 1)
            self.kill["abandoned shown"] = bool(await self.until(lease * 3 + 5, abandoned))
            self.no_triggers = False
            await self.trigger(conn, full=True)
            after = await self.until(lease * 4 + 10, new_run, every=0.1)
        finally:
            self.no_triggers = False
            await load
            await conn.emulator.clear()
        if after:
            waited = parse_time(after["last_started_at"]) - killed_at
            self.kill["new run after s"] = round(waited.total_seconds(), 1)
            self.kill["new run resumed"] = bool(after["resumed"])
            self.kill["new run kind"] = after["last_run_kind"]
        else:
            self.kill["new run after s"] = None
            self.kill["new run resumed"] = False
        self.kill["lease s"] = lease
        await self.record(name, mark)

    def kill_problems(self) -> list[str]:
        if not self.kill:
            return []
        problems = []
        if not self.kill["running when killed"]:
            problems.append("no sync was running when the service was killed")
        if not self.kill["abandoned shown"]:
            problems.append("the killed run never showed `abandoned`")
        waited = self.kill["new run after s"]
        # The lease, plus the restart and one beat of a queued request's watcher, plus slack.
        bound = self.kill["restart s"] + self.mode.lease_seconds * 4 / 3 + 3
        if waited is None or waited > bound:
            problems.append(f"no new run within {bound:.0f} s of the kill (waited {waited})")
        elif not self.kill["new run resumed"]:
            problems.append("the next full run did not resume the killed one")
        return problems

    # -- the end ---------------------------------------------------------------------------

    async def final_sync(self, conn: Connection) -> dict[str, Any]:
        """A full sync asked now, waited for until it succeeded (re-asked after a failure)."""
        started = time.monotonic()
        deadline = started + self.mode.final_sync_seconds
        asked = datetime.now(UTC)
        await self.trigger(conn, full=True)
        asks = 1
        status: dict[str, Any] | None = None
        while time.monotonic() < deadline:
            await asyncio.sleep(0.25)
            status = await self.sync_status(conn)
            if not status or status["state"] == "running" or status["queued"]:
                continue
            full_at = status["last_full_success_at"]
            if status["state"] == "succeeded" and full_at and parse_time(full_at) >= asked:
                return {
                    "final sync": "succeeded",
                    "final sync s": round(time.monotonic() - started, 1),
                    "quarantined": status["quarantined"],
                    "asks": asks,
                }
            began = status["last_started_at"]
            ours_ended = began and parse_time(began) >= asked
            # Ours failed, or nothing started (a moment's grace: the run row comes just after).
            if asks < 5 and (ours_ended or time.monotonic() - started > 2 * asks):
                asked = datetime.now(UTC)
                await self.trigger(conn, full=True)
                asks += 1
        state = status["state"] if status else "no status"
        error = status.get("last_error") if status else None
        return {"final sync": f"NOT succeeded: {state} {error or ''}", "asks": asks}

    async def final(self) -> None:
        """Faults lifted, vendors still: a full sync of every connection, in parallel."""
        self.current = "final"
        for conn in self.connections.values():
            await conn.emulator.clear()
        results = await asyncio.gather(*(self.final_sync(c) for c in self.connections.values()))
        self.results = dict(zip(self.connections, results, strict=True))

    async def compare(self) -> tuple[int, int, int]:
        await self.check_deletions("final")
        lost = stale = 0
        for conn in self.connections.values():
            live = await conn.emulator.live()
            stored_live = {r for r, row in conn.rows.items() if not row["remote_was_deleted"]}
            missing = sorted(live - stored_live)
            changed = [r for r in conn.emulator.updated if r in live]
            stale_ids, unverified = await self.stale(conn, changed)
            lost += len(missing)
            stale += len(stale_ids)
            self.results[conn.vendor].update(
                {
                    "vendor live": len(live),
                    "stored live": len(stored_live),
                    "lost": len(missing),
                    "lost ids": missing[:5],
                    "wrongly deleted": sum(1 for v, _ in self.wrong if v == conn.vendor),
                    "changed, checked": len(changed),
                    "stale": len(stale_ids),
                    "stale ids": stale_ids[:5],
                    "unverified": unverified,
                    "created/updated/deleted": f"{conn.emulator.created}/"
                    f"{len(conn.emulator.updated)}/{conn.emulator.deleted}",
                }
            )
        return lost, len(self.wrong), stale

    async def stale(self, conn: Connection, changed: list[str]) -> tuple[list[str], int]:
        """Changed ids whose stored copy (listed after the final sync) differs from a fresh read
        from the vendor. A read served from the store (``Age``) cannot tell: unverified."""
        stale: list[str] = []
        unverified = 0
        for remote_id in sorted(changed):
            row = conn.rows.get(remote_id)
            if row is None or row["remote_was_deleted"]:
                continue  # counted as lost or wrongly deleted
            response = await self.service.call(
                "read",
                "GET",
                f"{API}/candidates/{row['id']}",
                token=conn.token,
                headers={"Cache-Control": "no-cache"},
            )
            if response is None or response.status_code != 200 or "age" in response.headers:
                unverified += 1
                continue
            fresh = response.json()
            if any(fresh[f] != row[f] for f in COMPARED_FIELDS):
                stale.append(remote_id)
        return stale, unverified


# --- setup and report --------------------------------------------------------------------------


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


def service_env(mode: Mode, data_dir: Path, database_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("UNIFIED_ATS_")}
    env.update(
        {
            "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")])),
            "COLUMNS": "250",
            "UNIFIED_ATS_DATA_DIR": str(data_dir),
            "UNIFIED_ATS_DATABASE_URL": database_url,
            "UNIFIED_ATS_ALLOW_BASE_URL_OVERRIDE": "true",
            "UNIFIED_ATS_SYNC_INTERVAL_SECONDS": str(mode.interval_seconds),
            "UNIFIED_ATS_SYNC_LEASE_SECONDS": str(mode.lease_seconds),
            "UNIFIED_ATS_READ_DEADLINE_SECONDS": str(mode.read_deadline),
            "UNIFIED_ATS_MAX_AGE_SECONDS": "2",
            # The soak kills and restarts one `serve` that runs its own syncs, on either store;
            # worker processes on PostgreSQL are bench/scale_out.py's.
            "UNIFIED_ATS_JOB_RUNNER": "inprocess",
        }
    )
    return env


def create_tenant(env: dict[str, str], cwd: Path) -> str:
    done = subprocess.run(
        cli("tenants", "create", "chaos"),
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    match = re.search(r"API key \(shown once\): (\S+)", done.stdout)
    if done.returncode != 0 or match is None:
        raise RuntimeError(f"tenants create failed:\n{done.stdout}\n{done.stderr}")
    return match.group(1)


def joined(counter: Counter[Any]) -> str:
    return ", ".join(f"{k}:{n}" for k, n in sorted(counter.items(), key=str)) or "-"


def report(soak: Soak, console: Console, totals: tuple[int, int, int], elapsed: float) -> list[str]:
    """The tables; returns the problems that are not in the last line."""
    figures = soak.service.figures
    phases = Table(title="phases (each under concurrent triggers, reads, downloads, changes)")
    for column in ("phase", "faults", "requests", "2xx", "4xx", "5xx", "sync states polled"):
        phases.add_column(column)
    phases.add_column("newly wrongly deleted")
    phases.add_column("s", justify="right")
    for p in soak.phases:
        two = sum(n for s, n in p.statuses.items() if 200 <= s < 300)
        four = joined(Counter({s: n for s, n in p.statuses.items() if 400 <= s < 500}))
        five = joined(Counter({s: n for s, n in p.statuses.items() if s >= 500}))
        phases.add_row(
            p.name + (f"\n[dim]{p.note}[/dim]" if p.note else ""),
            str(p.faults),
            str(p.requests),
            str(two),
            four,
            five,
            joined(p.states),
            str(p.wrongly_deleted),
            f"{p.seconds:.1f}",
        )
    console.print(phases)

    keys = (
        "final sync",
        "final sync s",
        "vendor live",
        "stored live",
        "lost",
        "wrongly deleted",
        "changed, checked",
        "stale",
        "unverified",
        "quarantined",
        "created/updated/deleted",
    )
    vendors = Table(title="per connection, after the final full sync")
    vendors.add_column("")
    for vendor in soak.results:
        vendors.add_column(vendor)
    for key in keys:
        vendors.add_row(key, *(str(soak.results[v].get(key, "-")) for v in soak.results))
    console.print(vendors)

    problems: list[str] = []
    if figures.unhandled:
        problems.append(f"unhandled errors: {joined(Counter(figures.unhandled))}")
    if figures.timeouts:
        problems.append(
            f"unanswered within {HTTP_TIMEOUT:g} s: {joined(Counter(figures.timeouts))}"
        )
    if figures.unexpected:
        problems.append(f"statuses a route should never answer: {joined(figures.unexpected)}")
    problems += soak.kill_problems()
    problems += [
        f"{vendor}: final full sync {values['final sync']}"
        for vendor, values in soak.results.items()
        if values["final sync"] != "succeeded"
    ]

    run = Table(title="the run")
    run.add_column("figure")
    run.add_column("value")
    run.add_row("elapsed s", f"{elapsed:.0f}")
    run.add_row("service requests", str(figures.requests))
    run.add_row("statuses", joined(figures.statuses))
    run.add_row("unhandled (500 or the generic 503)", str(len(figures.unhandled)))
    run.add_row(f"unanswered within {HTTP_TIMEOUT:g} s", str(len(figures.timeouts)))
    run.add_row("refused (service down)", str(figures.refused))
    tracebacks = soak.service.log_text().count("Traceback (most recent call last)")
    run.add_row("tracebacks in the service log", str(tracebacks))
    run.add_row("sync triggers", joined(soak.triggers))
    run.add_row("vendor changes", joined(soak.changes))
    run.add_row("oversize values", "flatchr webhook: " + (", ".join(soak.oversize) or "-"))
    run.add_row("oversize listings", "all three vendors: 300,000-character names (oversize_values)")
    for key, value in soak.kill.items():
        run.add_row(f"kill -9: {key}", str(value))
    if soak.wrong:
        shown = "; ".join(f"{v} {r} (after {p})" for (v, r), p in list(soak.wrong.items())[:8])
        run.add_row("wrongly deleted", shown)
        read = [key for key in soak.wrong if key in soak.read_404]
        run.add_row(
            "  of which a single read answered 404",
            f"{len(read)} of {len(soak.wrong)} "
            f"(in phase {joined(Counter(soak.read_404[k] for k in read))})",
        )
    for vendor, values in soak.results.items():
        if values.get("lost ids"):
            run.add_row(f"lost ({vendor})", ", ".join(values["lost ids"]))
        if values.get("stale ids"):
            run.add_row(f"stale ({vendor})", ", ".join(values["stale ids"]))
    for problem in problems:
        run.add_row("[red]problem[/red]", problem)
    console.print(run)
    lost, wrong, stale = totals
    print(
        f"faults={soak.faults} requests={figures.requests} lost={lost} "
        f"wrongly_deleted={wrong} stale_after_sync={stale}",
        flush=True,
    )
    return problems


async def connect_all(soak: Soak, emulators: list[Emulator]) -> None:
    for emulator in emulators:
        response = await soak.service.call(
            "connect",
            "POST",
            f"{API}/connections",
            json={"connector": emulator.vendor, "settings": emulator.settings},
        )
        if response is None or response.status_code != 201:
            detail = "no answer" if response is None else response.text
            raise RuntimeError(f"connecting {emulator.vendor} failed: {detail}")
        body = response.json()
        soak.connections[emulator.vendor] = Connection(
            emulator.vendor, emulator, body["connector_token"], body["webhook_url"]
        )


def keep_logs(work: Path, kept: Path) -> None:
    kept.mkdir(parents=True, exist_ok=True)
    for path in work.glob("*.err"):
        (kept / path.name).write_bytes(path.read_bytes())


async def run(args: argparse.Namespace) -> int:
    mode = MODES["smoke" if args.smoke else "quick" if args.quick else "soak"]
    console = Console(width=170, highlight=False)
    rng = random.Random(args.seed)
    begun = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="uats-chaos-") as tmp:
        work = Path(tmp)
        data_dir = work / "data"
        data_dir.mkdir()
        if args.database == "postgres":
            await reset_postgres(args.pg_url)
            database_url = args.pg_url
        else:
            database_url = f"sqlite+aiosqlite:///{data_dir / 'store.db'}"
        env = service_env(mode, data_dir, database_url)
        emulators: list[Emulator] = []
        service = Service(env, work, free_port())
        try:
            started = await asyncio.gather(
                *(start_emulator(v, mode.size, work, env) for v in VENDORS),
                return_exceptions=True,
            )
            emulators = [e for e in started if isinstance(e, Emulator)]
            for failure in started:
                if isinstance(failure, BaseException):
                    raise failure
            service.api_key = await asyncio.to_thread(create_tenant, env, work)
            await service.start()
            console.log(
                f"{mode.name}: service {service.base_url} on {args.database}, {mode.size} "
                f"candidates per vendor, lease {mode.lease_seconds:g} s, seed {args.seed}"
            )
            soak = Soak(mode, service, rng, console)
            await connect_all(soak, emulators)
            soak.current = "first syncs"
            await soak.final()  # the first full syncs: start from a filled store
            first = {v: r["final sync"] for v, r in soak.results.items()}
            if any(r != "succeeded" for r in first.values()):
                raise RuntimeError(f"the first syncs did not succeed: {first}")
            await soak.phase("baseline (no fault)", {})
            for round_ in range(mode.rounds):
                console.log(f"fault cycle {round_ + 1}/{mode.rounds}")
                await soak.cycle()
            await soak.kill_phase()
            await soak.final()
            totals = await soak.compare()
            problems = report(soak, console, totals, time.monotonic() - begun)
            if args.keep_logs:
                keep_logs(work, Path(args.keep_logs))
            return 1 if any(totals) or problems else 0
        finally:
            service.stop()
            for emulator in emulators:
                emulator.proc.stop()
                await emulator.control.aclose()
            await service.client.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.chaos", description=(__doc__ or "").split("\n\n")[0]
    )
    length = parser.add_mutually_exclusive_group()
    length.add_argument("--quick", action="store_true", help="one fault cycle, < 2 minutes")
    length.add_argument("--smoke", action="store_true", help="the shortest run (for a test)")
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--pg-url", default=PG_URL, help="PostgreSQL URL; its schema is reset")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep-logs", help="copy the processes' stderr logs to this directory")
    args = parser.parse_args()

    def terminated(signum: int, frame: object) -> None:
        raise KeyboardInterrupt  # SIGTERM too ends in the finally blocks: no process left over

    signal.signal(signal.SIGTERM, terminated)
    try:
        code = asyncio.run(run(args))
    except KeyboardInterrupt:
        code = 130
    sys.exit(code)


if __name__ == "__main__":
    main()
