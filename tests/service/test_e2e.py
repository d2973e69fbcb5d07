"""End to end: the real demo (uvicorn servers on loopback ports), driven by a real HTTP client."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from unified_ats.demo import create_body

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.e2e


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def demo(tmp_path: Path):
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "unified_ats.cli",
            "demo",
            "--port",
            str(free_port()),
            "--size",
            "30",
            "--json",
        ],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    deadline = time.monotonic() + 60
    info = None
    lines = []
    assert process.stdout is not None
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line)
        if line.startswith("{"):
            info = json.loads(line)
            break
    if info is None:
        process.kill()
        pytest.fail("demo did not start:\n" + "".join(lines))
    yield info, process
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            pytest.fail("demo did not stop on Ctrl-C")


def test_demo_serves_the_unified_api_over_real_http(demo) -> None:
    info, process = demo
    base, key = info["base_url"], info["api_key"]
    token = info["tokens"]["flatchr"]
    ids = info["ids"]["flatchr"]
    headers = {"Authorization": f"Bearer {key}", "x-connector-token": token}
    with httpx.Client(base_url=base, timeout=30) as client:
        assert client.get("/health").json()["status"] == "ok"
        page = client.get(
            "/api/ats/v1/candidates", params={"page_size": 10}, headers=headers
        ).json()
        assert len(page["items"]) == 10 and page["cursor"]
        one = client.get(f"/api/ats/v1/candidates/{ids['candidate']}", headers=headers)
        assert one.status_code == 200 and one.json()["attachments"] == [ids["attachment"]]
        attachment = client.get(
            f"/api/ats/v1/attachments/{ids['attachment']}", headers=headers
        ).json()
        assert attachment["file_url"].startswith(base)
        file = client.get(attachment["file_url"], headers=headers)
        assert file.status_code == 200 and len(file.content) > 100
        assert "attachment;" in file.headers["content-disposition"]
        refreshed = client.get(
            f"/api/ats/v1/candidates/{ids['candidate']}",
            headers={**headers, "Cache-Control": "no-cache"},
        )
        assert refreshed.status_code == 200 and "age" not in refreshed.headers
        assert client.get("/api/ats/v1/candidates").status_code == 401
        spec = client.get("/openapi.json").json()
        assert "/api/ats/v1/candidates/{candidate_id}" in spec["paths"]
        # What the demo prints for each vendor: a job, the candidate's application, an expand.
        for vendor, first in info["ids"].items():
            h = {"Authorization": f"Bearer {key}", "x-connector-token": info["tokens"][vendor]}
            job = client.get(f"/api/ats/v1/jobs/{first['job']}", headers=h)
            assert job.status_code == 200 and job.json()["name"], vendor
            expanded = client.get(
                f"/api/ats/v1/applications/{first['application']}",
                params={"expand": "candidate,job,current_stage"},
                headers=h,
            ).json()
            assert expanded["candidate"]["id"] == first["candidate"], vendor
            assert (
                expanded["job"]["id"]
                and expanded["current_stage"]["job"] == (expanded["job"]["id"])
            )
            # The create curl the demo prints: Welcome Kit fetches the CV from our signed URL
            # over real HTTP; the same Idempotency-Key replays instead of creating again.
            write = {**h, "Content-Type": "application/json", "Idempotency-Key": f"e2e-{vendor}"}
            body = create_body(vendor, first["job"])
            created = client.post("/api/ats/v1/candidates", content=body, headers=write)
            assert created.status_code == 201, (vendor, created.text)
            again = client.post("/api/ats/v1/candidates", content=body, headers=write)
            assert again.json() == created.json() and again.headers["idempotent-replayed"]
            stored = client.get(f"/api/ats/v1/candidates/{created.json()['id']}", headers=h)
            assert stored.status_code == 200, vendor
    assert process.poll() is None


def test_the_demo_holds_every_vendor_record_despite_strict_paging(demo) -> None:
    """The demo's emulators cap page sizes and send relative next links; the store still holds
    exactly each vendor's records."""
    info, _ = demo
    with httpx.Client(base_url=info["base_url"], timeout=30) as client:
        for vendor, emulator in info["emulators"].items():
            state = httpx.get(f"{emulator['base_url']}/_emulator/state", timeout=10).json()
            assert state["faults"]["page_size_cap"] == 20
            headers = {
                "Authorization": f"Bearer {info['api_key']}",
                "x-connector-token": info["tokens"][vendor],
            }
            stored: list[str] = []
            cursor = None
            for _ in range(100):
                params = {"page_size": 200, **({"cursor": cursor} if cursor else {})}
                page = client.get("/api/ats/v1/candidates", params=params, headers=headers).json()
                stored += [c["remote_id"] for c in page["items"]]
                cursor = page["cursor"]
                if not cursor:
                    break
            vendor_ids = [r for account in state["accounts"] for r in account["remote_ids"]]
            assert sorted(stored) == sorted(vendor_ids), vendor
            jobs = client.get("/api/ats/v1/jobs", params={"page_size": 200}, headers=headers)
            vendor_jobs = [j for account in state["accounts"] for j in account["job_remote_ids"]]
            assert sorted(j["remote_id"] for j in jobs.json()["items"]) == sorted(vendor_jobs)
