"""``unified-ats emulator``: one seeded emulator alone, over real HTTP, stopped by SIGTERM."""

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from connectors.sdk.emulation import EmulatorTransport
from connectors.sdk.registry import default_registry
from unified_ats.cli import app
from unified_ats.demo import announce_demo, free_port
from unified_ats.demo.emulators import BUILDERS, DEMO_WK_KEY, DEMO_WK_ORG

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def welcomekit(tmp_path: Path) -> Iterator[tuple[dict[str, Any], subprocess.Popen[str]]]:
    port = free_port()
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "unified_ats.cli", "emulator", "welcomekit"),
            *("--port", str(port), "--size", "5"),
        ],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert process.stdout is not None
    line = process.stdout.readline()  # printed once the port accepts connections
    if not line.startswith("{"):
        process.kill()
        pytest.fail(f"emulator did not start: {line}{process.communicate(timeout=5)}")
    info = json.loads(line)
    assert info["base_url"] == f"http://127.0.0.1:{port}"
    yield info, process
    if process.poll() is None:
        process.kill()
        process.wait(timeout=5)


def test_the_emulator_serves_its_vendor_api_and_control_api_until_sigterm(
    welcomekit: tuple[dict[str, Any], subprocess.Popen[str]],
) -> None:
    info, process = welcomekit
    settings = info["settings"]
    assert info["vendor"] == "welcomekit"
    assert settings == {
        "api_key": DEMO_WK_KEY,
        "organization_reference": DEMO_WK_ORG,
        "base_url": f"{info['base_url']}/api/v1/external",
    }
    auth = {"Authorization": f"Bearer {settings['api_key']}"}
    with httpx.Client(timeout=10) as client:
        jobs = client.get(
            f"{settings['base_url']}/jobs",
            params={"organization_reference": settings["organization_reference"]},
            headers=auth,
        ).json()
        references = [
            c["reference"]
            for job in jobs
            for c in client.get(
                f"{settings['base_url']}/candidates",
                params={"job_reference": job["reference"]},
                headers=auth,
            ).json()
        ]
        state = client.get(f"{info['base_url']}/_emulator/state").json()
        assert state["vendor"] == "welcomekit" and state["requests_seen"] == len(jobs) + 1
        [account] = state["accounts"]
        assert account["account"] == DEMO_WK_ORG and account["count"] == 5
        assert sorted(account["remote_ids"]) == sorted(references)

        created = client.post(
            f"{info['base_url']}/_emulator/change", json={"action": "create", "count": 1}
        ).json()["ids"][0]
        one = client.get(f"{settings['base_url']}/candidates/{created}", headers=auth)
        assert one.status_code == 200 and one.json()["resume_url"].startswith(info["base_url"])
        cv = client.get(one.json()["resume_url"])  # file URLs open on the same server
        assert cv.status_code == 200 and cv.content.startswith(b"%PDF")

    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=10) == 0


def test_an_unknown_vendor_is_refused() -> None:
    result = CliRunner().invoke(app, ["emulator", "workday", "--size", "1"])
    assert result.exit_code == 2
    assert "flatchr, welcomekit, viasto" in result.output


@pytest.mark.parametrize("vendor", sorted(BUILDERS))
async def test_the_printed_settings_work_for_the_connector(vendor: str) -> None:
    seeded = BUILDERS[vendor](port=8123, size=7)
    assert seeded.announcement()["base_url"] == "http://127.0.0.1:8123"
    connector_class = default_registry().get(vendor)
    settings = connector_class.settings_model(**seeded.settings)
    transport = EmulatorTransport(seeded.app)
    async with connector_class(settings, transport=transport) as connector:  # type: ignore[call-arg]
        await connector.verify_credentials()
        remote_ids = [
            r.candidate.remote_id
            async for page in connector.iter_candidates()
            for r in page.records
        ]
    assert len(remote_ids) == 7
    assert sorted(remote_ids) == sorted(seeded.emulator.state()["accounts"][0]["remote_ids"])


def test_the_demo_json_line_names_the_emulators() -> None:
    lines: list[str] = []
    seeded = {"flatchr": BUILDERS["flatchr"](port=8124, size=1)}
    emulated = {v: {"base_url": s.base_url, "settings": s.settings} for v, s in seeded.items()}
    ids = {"flatchr": {"candidate": "c", "attachment": "", "count": "1"}}
    announce_demo(lines.append, "http://api", "key", {"flatchr": "tok"}, ids, True, emulated)
    info = json.loads(lines[0])
    assert info["emulators"]["flatchr"]["base_url"] == "http://127.0.0.1:8124"
    assert info["emulators"]["flatchr"]["settings"]["base_url"] == "http://127.0.0.1:8124"
    assert "curl -sS http://127.0.0.1:8124/_emulator/state" in lines


def test_the_demo_package_leaves_the_service_stack_unloaded() -> None:
    # `unified-ats emulator` imports it for the seeded emulators: FastAPI and SQLAlchemy load
    # only when the demo itself runs.
    code = (
        "import sys, unified_ats.demo.emulators; "
        "print(sorted(m for m in ('fastapi', 'sqlalchemy') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, capture_output=True)
    assert out.stdout.strip() == b"[]"
