"""The operator CLI end to end: tenants, connections, sync, against a real emulator port."""

import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from typer.testing import CliRunner

from connectors.flatchr.emulator import FlatchrEmulator
from unified_ats.cli import app
from unified_ats.demo import free_port

COMPANY, KEY = "CLICOMPANY000000", "flt_cli_secret_key_77"


@pytest.fixture
def flatchr_url() -> Iterator[str]:
    emulator = FlatchrEmulator()
    emulator.add_company(company_id=COMPANY, api_key=KEY, name="Cli SA", size=40)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(emulator.app, host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=5)


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("UNIFIED_ATS_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("UNIFIED_ATS_ALLOW_BASE_URL_OVERRIDE", "true")
    monkeypatch.delenv("UNIFIED_ATS_DATABASE_URL", raising=False)
    return tmp_path


def run(*args: str) -> str:
    result = CliRunner().invoke(app, list(args), catch_exceptions=False, env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    return result.output


def create_flatchr_connection(tenant: str, flatchr_url: str, *, key: str = KEY) -> list[str]:
    settings = {"api_key": key, "company_id": COMPANY, "base_url": flatchr_url}
    pairs = [part for name, value in settings.items() for part in ("-s", f"{name}={value}")]
    return ["connections", "create", "--tenant", tenant, "--connector", "flatchr", *pairs]


def test_operator_flow_from_tenant_to_sync(cli_env: Path, flatchr_url: str) -> None:
    created = run("tenants", "create", "acme")
    tenant = re.search(r"tenant ([0-9a-f-]{36})", created)[1]  # type: ignore[index]
    assert "uats_sk_" in created
    connection_out = run(*create_flatchr_connection(tenant, flatchr_url))
    assert "first sync: 40 candidates" in connection_out
    assert KEY not in connection_out
    connection = re.search(r"connection ([0-9a-f-]{36})", connection_out)[1]  # type: ignore[index]
    listed = run("connections", "list", "--tenant", tenant)
    assert connection[:8] in listed and KEY not in listed
    synced = run("sync", connection)
    assert "incremental" in synced  # the first sync was full; this one uses start_update
    full = run("sync", "--all", "--full")
    assert re.search(r"full\s+│\s+40\s", full), full
    # Per model: every candidate's application, and the company's jobs (vacancies).
    assert re.search(r"applications\s+│\s+40\s", full), full
    assert re.search(r"jobs\s+│\s+\d+\s", full), full
    rotated = run("connections", "rotate-token", "--tenant", tenant, connection)
    assert "uats_ct_" in rotated
    run("connections", "delete", "--tenant", tenant, connection)
    assert connection[:8] not in run("connections", "list")


def test_refused_credentials_exit_non_zero_without_leaking(cli_env: Path, flatchr_url: str) -> None:
    tenant = re.search(r"tenant ([0-9a-f-]{36})", run("tenants", "create", "acme"))[1]  # type: ignore[index]
    result = CliRunner().invoke(
        app,
        create_flatchr_connection(tenant, flatchr_url, key="flt_wrong_key_123"),
    )
    assert result.exit_code == 1
    assert "rejected these credentials" in result.output
    assert "flt_wrong_key_123" not in result.output


def test_sync_needs_a_target(cli_env: Path) -> None:
    result = CliRunner().invoke(app, ["sync"])
    assert result.exit_code != 0


def test_a_failed_sync_shows_the_reason_without_sql_or_personal_data(
    cli_env: Path, flatchr_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    tenant = re.search(r"tenant ([0-9a-f-]{36})", run("tenants", "create", "acme"))[1]  # type: ignore[index]
    created = run(*create_flatchr_connection(tenant, flatchr_url))
    connection = re.search(r"connection ([0-9a-f-]{36})", created)[1]  # type: ignore[index]
    from sqlalchemy.exc import OperationalError

    from unified_ats.store.records import RecordStore

    async def store_down(*args: object, **kwargs: object) -> None:
        # What the database driver raises: the statement and a candidate's name in its text.
        raise OperationalError(
            "INSERT INTO candidates (first_name) VALUES ('Zébulon')",
            {"first_name": "Zébulon"},
            None,
        )

    monkeypatch.setattr(RecordStore, "upsert_page", store_down)
    result = CliRunner().invoke(app, ["sync", connection, "--full"], env={"COLUMNS": "200"})
    assert result.exit_code == 1
    assert "the store failed (OperationalError)" in result.output
    assert "INSERT" not in result.output and "Zébulon" not in result.output
