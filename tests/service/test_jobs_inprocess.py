"""The in-process runner (SQLite's single process) behind the job interface, and
``unified-ats jobs`` on both runners."""

import asyncio
import json
import uuid
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.service.conftest import Stack
from unified_ats.cli import app
from unified_ats.jobs import InProcessRunner

API = "/api/ats/v1"


async def test_the_sqlite_runner_is_in_process_and_counts_from_the_store(stack: Stack) -> None:
    services = stack.services
    assert isinstance(services.jobs, InProcessRunner)
    created = await stack.connect_flatchr()
    connection_id = uuid.UUID(created["id"])
    stack.flatchr.faults.latency = 0.2  # the next run lasts a moment
    assert await services.trigger_sync(connection_id) is True  # started here
    assert await services.trigger_sync(connection_id, full=True) is False  # its follow-up
    assert await services.trigger_sync(connection_id) is False  # coalesced
    for _ in range(200):  # the background run opens its run row (slow on a loaded machine)
        latest = await services.runs.latest(connection_id)
        if latest is not None and latest.state == "running":
            break
        await asyncio.sleep(0.05)
    counts = {c.kind: c for c in await services.jobs.counts()}
    assert counts["sync"].running == 1 and counts["sync"].queued == 1
    headers = stack.headers(created["connector_token"])
    status = (await stack.client.get(f"{API}/sync-status", headers=headers)).json()
    assert status["state"] == "running" and status["queued"] is True
    await services.wait_for_background()
    stack.flatchr.faults.latency = 0
    counts = {c.kind: c for c in await services.jobs.counts()}
    assert counts["sync"].running == 0 and counts["sync"].queued == 0
    runs = await services.runs.latest(connection_id)
    assert runs is not None and runs.full and runs.state == "succeeded"  # the full follow-up


def test_jobs_command_on_sqlite(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UNIFIED_ATS_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("UNIFIED_ATS_DATABASE_URL", raising=False)
    monkeypatch.delenv("UNIFIED_ATS_JOB_RUNNER", raising=False)
    result = CliRunner().invoke(app, ["jobs", "--json"])
    assert result.exit_code == 0, result.output
    shown = json.loads(result.output)
    assert shown["runner"] == "inprocess"
    assert shown["jobs"]["sync"] == {"queued": 0, "running": 0, "failed": 0}
    table = CliRunner().invoke(app, ["jobs"])
    assert table.exit_code == 0 and "deliver" in table.output and "queued" in table.output


def test_worker_refuses_sqlite(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UNIFIED_ATS_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("UNIFIED_ATS_DATABASE_URL", raising=False)
    monkeypatch.delenv("UNIFIED_ATS_JOB_RUNNER", raising=False)
    result = CliRunner().invoke(app, ["worker"])
    assert result.exit_code == 2
    assert "PostgreSQL" in result.output


@pytest.mark.postgres
async def test_jobs_command_on_postgresql(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("the procrastinate runner needs PostgreSQL")
    from unified_ats.services import Services
    from unified_ats.settings import Settings

    settings = Settings(data_dir=tmp_path, database_url=database_url, job_runner="procrastinate")
    services = await Services.start(settings)
    try:
        await services.jobs.enqueue_sync(uuid.uuid4(), tenant_id=uuid.uuid4(), full=None)
    finally:
        await services.aclose()
    monkeypatch.setenv("UNIFIED_ATS_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("UNIFIED_ATS_DATABASE_URL", database_url)
    monkeypatch.setenv("UNIFIED_ATS_JOB_RUNNER", "procrastinate")
    result = await asyncio.to_thread(CliRunner().invoke, app, ["jobs", "--json"])
    assert result.exit_code == 0, result.output
    shown = json.loads(result.output)
    assert shown["runner"] == "procrastinate"
    assert shown["jobs"]["sync"] == {"queued": 1, "running": 0, "failed": 0}
    assert set(shown["jobs"]) == {"sync", "tick", "deliver", "recover", "prune"}
