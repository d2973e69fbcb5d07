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


UNKNOWN = "00000000-0000-4000-8000-000000000001"


def fails(*args: str) -> tuple[int, str, str]:
    """Exit code, stdout and stderr of a command that must fail."""
    result = CliRunner().invoke(app, list(args), env={"COLUMNS": "200"})
    assert result.exit_code != 0, result.output
    assert not isinstance(result.exception, Exception) or isinstance(
        result.exception, SystemExit
    ), result.exception
    return result.exit_code, result.stdout, result.stderr


def assert_one_clean_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    for leak in ("Traceback", "SELECT", "INSERT", "uats_", "sha256", "sqlite", "127.0.0.1"):
        assert leak not in stderr, stderr
    return lines[0]


@pytest.mark.parametrize(
    "command",
    [
        ["connections", "list", "--tenant", UNKNOWN],
        ["tenants", "new-key", UNKNOWN],
        ["connections", "create", "--tenant", UNKNOWN, "--connector", "flatchr",
         "-s", "api_key=flt_x", "-s", "company_id=C"],
        ["connections", "delete", "--tenant", UNKNOWN, UNKNOWN],
        ["connections", "rotate-token", "--tenant", UNKNOWN, UNKNOWN],
        ["connections", "rotate-webhook-secret", "--tenant", UNKNOWN, UNKNOWN],
    ],
)  # fmt: skip
def test_an_unknown_tenant_is_one_line_on_stderr_in_a_fresh_store(
    cli_env: Path, command: list[str]
) -> None:
    code, stdout, stderr = fails(*command)
    assert code == 2
    assert stdout == ""
    assert (
        assert_one_clean_line(stderr)
        == f"error: no tenant {UNKNOWN} (see `unified-ats tenants list`)"
    )


def test_an_unknown_connection_names_its_id(cli_env: Path) -> None:
    tenant = re.search(r"tenant ([0-9a-f-]{36})", run("tenants", "create", "acme"))[1]  # type: ignore[index]
    for command in (
        ["connections", "delete", "--tenant", tenant, UNKNOWN],
        ["connections", "rotate-token", "--tenant", tenant, UNKNOWN],
        ["sync", UNKNOWN],
    ):
        code, _, stderr = fails(*command)
        assert code == 2 and UNKNOWN in assert_one_clean_line(stderr), stderr


def test_settings_errors_name_the_field_and_never_echo_values(cli_env: Path) -> None:
    tenant = re.search(r"tenant ([0-9a-f-]{36})", run("tenants", "create", "acme"))[1]  # type: ignore[index]
    base = ["connections", "create", "--tenant", tenant, "--connector", "flatchr"]
    code, _, stderr = fails(*base, "-s", "api_key=flt_secret_value_1")
    line = assert_one_clean_line(stderr)
    assert code == 2 and line == "error: invalid settings for flatchr: company_id: Field required"
    code, _, stderr = fails(*base, "-s", "api_key=k", "-s", "company_id=C", "-s", "colour=red")
    assert "colour: Extra inputs are not permitted" in assert_one_clean_line(stderr)
    assert "red" not in stderr
    code, _, stderr = fails(*base, "-s", "flt_secret_typed_alone")
    assert code == 2 and "flt_secret_typed_alone" not in assert_one_clean_line(stderr)
    code, _, stderr = fails("connections", "create", "--tenant", tenant, "--connector", "nope")
    assert "unknown connector 'nope'" in assert_one_clean_line(stderr)


def test_a_bad_environment_variable_is_named(
    cli_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("UNIFIED_ATS_MAX_AGE_SECONDS", "soon")
    code, _, stderr = fails("tenants", "list")
    line = assert_one_clean_line(stderr)
    assert code == 2 and line.startswith("error: invalid environment: UNIFIED_ATS_MAX_AGE_SECONDS:")
    assert "soon" not in line


def test_debug_shows_the_traceback(cli_env: Path) -> None:
    result = CliRunner().invoke(app, ["--debug", "connections", "list", "--tenant", UNKNOWN])
    assert result.exit_code != 0
    from unified_ats.cli.errors import UnknownId

    assert isinstance(result.exception, UnknownId)  # raised, not turned into one line


def test_an_unreachable_vendor_is_named_without_its_host_or_port(cli_env: Path) -> None:
    tenant = re.search(r"tenant ([0-9a-f-]{36})", run("tenants", "create", "acme"))[1]  # type: ignore[index]
    port = free_port()  # nothing listens there
    closed = f"http://127.0.0.1:{port}"
    code, _, stderr = fails(*create_flatchr_connection(tenant, closed))
    line = assert_one_clean_line(stderr)
    assert code == 1 and line.startswith("error: VendorUnavailable: Flatchr could not be reached")
    assert str(port) not in line


def test_tenants_list_and_connections_list_show_whole_ids_on_a_narrow_terminal(
    cli_env: Path, flatchr_url: str
) -> None:
    tenant = re.search(r"tenant ([0-9a-f-]{36})", run("tenants", "create", "acme"))[1]  # type: ignore[index]
    created = run(*create_flatchr_connection(tenant, flatchr_url))
    connection = re.search(r"connection ([0-9a-f-]{36})", created)[1]  # type: ignore[index]
    narrow = {"COLUMNS": "60"}
    tenants = CliRunner().invoke(app, ["tenants", "list"], env=narrow)
    assert tenants.exit_code == 0 and tenant in tenants.stdout
    keys_and_connections = r"acme\s.*│\s+1\s+│\s+1\s"
    assert re.search(keys_and_connections, tenants.stdout), tenants.stdout
    listed = CliRunner().invoke(app, ["connections", "list", "--tenant", tenant], env=narrow)
    assert listed.exit_code == 0 and connection in listed.stdout and tenant in listed.stdout


def test_connectors_list_shows_capabilities_and_settings_fields(cli_env: Path) -> None:
    out = run("connectors", "list")
    for name in ("flatchr", "welcomekit", "viasto"):
        assert name in out
    assert "download_attachment" in out and "list_jobs" in out
    assert "api_key (required, secret)" in out
    assert "company_id (required)" in out
    assert "organization_reference (required)" in out


def test_progress_tasks_stop_when_their_sync_ends() -> None:
    from rich.progress import Progress

    from unified_ats.cli.commands import finish_task

    now = [0.0]
    progress = Progress(get_time=lambda: now[0], disable=True)
    done = progress.add_task("a", total=None)
    progress.update(done, completed=40)
    now[0] = 5.0
    finish_task(progress, done)
    broken = progress.add_task("b", total=100)
    progress.update(broken, completed=10)
    finish_task(progress, broken, failed=True)
    now[0] = 60.0  # the clock runs on; the finished tasks' must not
    a, b = progress.tasks
    assert a.finished and a.completed == a.total == 40 and a.elapsed == 5.0
    assert b.finished and b.elapsed == 0.0 and "failed" in b.description


@pytest.mark.parametrize(
    "command, named",
    [
        (["tenants", "new-key", "not-a-uuid"], "'tenant'"),
        (["connections", "list", "--tenant", "x"], "'--tenant'"),
        (["connections", "create", "--connector", "flatchr"], "'--tenant'"),
        (["sync"], "give one connection id, or --all"),
        (["nope"], "'nope'"),
    ],
)
def test_usage_errors_are_one_line_naming_the_parameter(
    cli_env: Path, command: list[str], named: str
) -> None:
    code, stdout, stderr = fails(*command)
    line = assert_one_clean_line(stderr)
    assert code == 2 and stdout == ""
    assert line.startswith("error: ") and named in line and "--help`)" in line
