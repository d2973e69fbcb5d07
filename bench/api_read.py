"""GET /api/ats/v1/candidates/{id} from the store, against a bare FastAPI route returning the
same JSON from memory. Same uvicorn settings, same machine, same run; prints the ratio.

    uv run python -m bench.api_read [seconds]

Targets: at least 0.6x the bare route's requests/s; p99 under 10 ms at 64 connections.
"""

import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from bench.common import report
from bench.loadgen import load
from connectors.flatchr.emulator import FlatchrEmulator
from connectors.sdk.emulation import EmulatorTransport
from unified_ats.demo import free_port
from unified_ats.onboarding import connect
from unified_ats.services import Services
from unified_ats.settings import Settings
from unified_ats.store.records import CandidateQuery

COMPANY, KEY = "BENCHCOMPANY0000", "flt_bench_key"
UVICORN_ARGS = ["--host", "127.0.0.1", "--log-level", "warning", "--no-access-log"]


async def prepare(data_dir: Path) -> tuple[str, str, str, bytes]:
    """A filled store; returns api key, connector token, a candidate id and its JSON."""
    emulator = FlatchrEmulator()
    emulator.add_company(company_id=COMPANY, api_key=KEY, name="Bench SA", size=500)
    settings = Settings(data_dir=data_dir, allow_base_url_override=True)
    services = await Services.start(
        settings, transports={"flatchr": EmulatorTransport(emulator.app)}
    )
    try:
        tenant, api_key = await services.accounts.create_tenant("bench")
        connection, token, _ = await connect(
            services, tenant, "flatchr", {"api_key": KEY, "company_id": COMPANY}, sync_now=False
        )
        await services.sync(connection.id)
        stored = await services.records.candidates(
            connection.id,
            CandidateQuery(),
            after=0,
            limit=1,
        )
        candidate = stored[0].model.model_copy(update={"raw_data": None, "custom_fields": None})
        return api_key, token, str(candidate.id), candidate.model_dump_json().encode()
    finally:
        await services.aclose()


def serve(target: str, port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", target, "--factory", "--port", str(port), *UVICORN_ARGS],
        env={**os.environ, **env},
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code in (200, 404):
                return process
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"{target} did not start")


def main(seconds: int = 10) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp)
        api_key, token, candidate_id, body = asyncio.run(prepare(data_dir))
        (data_dir / "bare.json").write_bytes(body)
        env = {
            "UNIFIED_ATS_DATA_DIR": str(data_dir),
            "UNIFIED_ATS_MAX_AGE_SECONDS": "86400",
            "BENCH_BARE_JSON": str(data_dir / "bare.json"),
        }
        headers = {"Authorization": f"Bearer {api_key}", "x-connector-token": token}
        results = {}
        for name, target in (
            ("bare route (memory)", "bench.bare_app:create"),
            ("unified-ats (store)", "unified_ats.api.app:create_app"),
        ):
            port = free_port()
            process = serve(target, port, env)
            try:
                url = f"http://127.0.0.1:{port}/api/ats/v1/candidates/{candidate_id}"
                check = httpx.get(url, headers=headers)
                assert check.status_code == 200 and check.content == body, check.text[:200]
                load(url, headers, connections=64, seconds=2)  # warm-up
                results[name] = load(url, headers, connections=64, seconds=seconds)
            finally:
                process.terminate()
                process.wait()
    bare, store = results["bare route (memory)"], results["unified-ats (store)"]
    rows = [
        (
            name,
            f"{r.requests_per_second:8,.0f} req/s  p50 {r.p50_ms:6.2f} ms  p99 {r.p99_ms:6.2f} ms  errors {r.errors}  ({r.tool})",
        )
        for name, r in results.items()
    ]
    rows.append(
        (
            "ratio store / bare",
            f"{store.requests_per_second / bare.requests_per_second:.2f}x req/s (target >= 0.6x); store p99 {store.p99_ms:.2f} ms (target < 10 ms)",
        )
    )
    report(f"GET /api/ats/v1/candidates/{{id}}, 64 connections, {seconds}s each", rows)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10)
