"""The ``unified-ats`` command line: the demo, the server, and operator tasks."""

import asyncio
import json
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from connectors import ConnectorError
from schemas.export import EXPORTED, render
from unified_ats.onboarding import CredentialsRejected, SettingsRejected, connect
from unified_ats.services import Services
from unified_ats.settings import Settings

app = typer.Typer(no_args_is_help=True, help="unified-ats: unified ATS API and connector SDK.")
tenants = typer.Typer(no_args_is_help=True, help="Tenants and their API keys.")
connections = typer.Typer(no_args_is_help=True, help="A tenant's connections to ATS accounts.")
app.add_typer(tenants, name="tenants")
app.add_typer(connections, name="connections")
console = Console()
T = TypeVar("T")
OPENAPI_PATH = Path(__file__).resolve().parents[1] / "schemas" / "openapi.json"


def with_services(work: Callable[[Services], Awaitable[T]]) -> T:
    async def run() -> T:
        services = await Services.start(Settings())
        try:
            return await work(services)
        finally:
            await services.aclose()

    return asyncio.run(run())


@app.callback()
def root() -> None:
    """unified-ats: a self-hostable unified ATS API (Bindbee-shaped) and connector SDK."""


@app.command()
def demo(
    port: Annotated[int, typer.Option(help="Port of the API (a free one if taken).")] = 8000,
    size: Annotated[int, typer.Option(help="Applicants per emulated vendor account.")] = 200,
    json_line: Annotated[bool, typer.Option("--json", help="Also print one JSON line.")] = False,
) -> None:
    """Start the vendor emulators and the service locally, fill the store, print curl commands."""
    from unified_ats.demo import run_demo

    try:
        asyncio.run(
            run_demo(
                port=port,
                size=size,
                machine_readable=json_line,
                announce=lambda s: print(s, flush=True),
            )
        )
    except KeyboardInterrupt:
        console.print("demo stopped")


@app.command()
def emulator(
    vendor: Annotated[str, typer.Argument(help="flatchr, welcomekit or viasto.")],
    port: Annotated[int, typer.Option(help="Port to listen on (0: a free one).")] = 0,
    size: Annotated[int, typer.Option(min=0, help="Candidates in its one account.")] = 25,
    host: Annotated[str, typer.Option(help="Address to bind.")] = "127.0.0.1",
) -> None:
    """Run one vendor emulator alone, seeded, with its /_emulator/ control API.

    Prints one JSON line (vendor, base_url, connection settings) once it accepts connections,
    then serves until Ctrl-C or SIGTERM. Credentials and control routes: docs/emulators.md.
    """
    from unified_ats.demo.emulators import BUILDERS, run_emulator

    if vendor not in BUILDERS:
        raise typer.BadParameter(f"choose one of {', '.join(BUILDERS)}", param_hint="VENDOR")
    run_emulator(vendor, port=port, size=size, host=host, announce=lambda s: print(s, flush=True))
    typer.echo("emulator stopped", err=True)


@app.command()
def serve(
    host: Annotated[str, typer.Option()] = "127.0.0.1",
    port: Annotated[int, typer.Option()] = 8000,
) -> None:
    """Run the API server (settings from UNIFIED_ATS_* environment variables)."""
    import uvicorn

    from unified_ats.api.app import create_app

    uvicorn.run(create_app(Settings()), host=host, port=port, log_level="info")


@app.command()
def schema(
    model: Annotated[
        str, typer.Argument(help="candidate, attachment, candidate_page, ...")
    ] = "candidate",
) -> None:
    """Print the JSON Schema of a public model."""
    file_name = f"{model}.json"
    if file_name not in EXPORTED:
        raise typer.BadParameter(f"unknown model; choose from {[n[:-5] for n in EXPORTED]}")
    typer.echo(json.dumps(json.loads(render(EXPORTED[file_name])), indent=2, ensure_ascii=False))


@app.command()
def openapi() -> None:
    """Write the API's OpenAPI document to schemas/openapi.json."""
    from unified_ats.api.app import openapi_document

    OPENAPI_PATH.write_text(json.dumps(openapi_document(), indent=2, ensure_ascii=False) + "\n")
    console.print(f"wrote {OPENAPI_PATH}")


QUEUED = "queued behind the running sync"


@app.command()
def sync(
    connection: Annotated[uuid.UUID | None, typer.Argument(help="One connection id.")] = None,
    all_connections: Annotated[bool, typer.Option("--all", help="Every connection.")] = False,
    full: Annotated[bool, typer.Option(help="Enumerate everything and detect deletions.")] = False,
) -> None:
    """Sync one connection or all of them, with progress and a summary."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    from unified_ats.sync import SyncProgress, SyncQueued, SyncReport, describe_failure

    if (connection is None) == (not all_connections):
        raise typer.BadParameter("give one connection id, or --all")

    async def work(services: Services) -> list[tuple[str, SyncReport | str]]:
        targets = (
            [c.id for c in await services.accounts.all_connections()]
            if all_connections
            else [connection]
        )
        results: list[tuple[str, SyncReport | str]] = []
        columns = (
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]:>8} rec/s"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
        )
        with Progress(*columns, console=console) as progress:
            for target in targets:
                assert target is not None
                task = progress.add_task(str(target)[:8], total=None, rate="-")

                def update(p: SyncProgress, task: Any = task) -> None:
                    elapsed = progress.tasks[task].elapsed or 0.0
                    rate = f"{p.seen / elapsed:,.0f}" if elapsed > 0 else "-"
                    progress.update(task, completed=p.seen, total=p.total, rate=rate)

                try:
                    results.append(
                        (
                            str(target),
                            await services.sync(
                                target, full=True if full else None, progress=update
                            ),
                        )
                    )
                except SyncQueued:
                    results.append((str(target), QUEUED))
                except Exception as exc:  # the mapped reason only: never SQL or values
                    results.append((str(target), describe_failure(exc)))
        return results

    table = Table(
        "connection",
        "kind",
        "seen",
        "changed",
        "deleted",
        "quarantined",
        "rows written",
        "seconds",
        "rec/s",
    )
    models = Table("connection", "model", "seen", "changed", "deleted", title="per model")
    failed = False
    for target, result in with_services(work):
        if result == QUEUED:  # another run is going; this request is its follow-up
            table.add_row(target, "[yellow]queued[/yellow]", "", "", "", "", "", "", "")
            continue
        if isinstance(result, str):
            failed = True
            table.add_row(target, "[red]failed[/red]", result, "", "", "", "", "", "")
            continue
        rate = result.seen / result.duration_seconds if result.duration_seconds else 0.0
        table.add_row(
            target,
            "full" if result.full else "incremental",
            str(result.seen),
            str(result.changed),
            str(result.deleted),
            str(result.quarantined),
            str(result.rows_written),
            f"{result.duration_seconds:.1f}",
            f"{rate:,.0f}",
        )
        for model, counts in result.models().items():
            models.add_row(
                target, model, str(counts["seen"]), str(counts["changed"]), str(counts["deleted"])
            )
    console.print(table)
    if models.row_count:
        console.print(models)
    if failed:
        raise typer.Exit(1)


@tenants.command("create")
def tenants_create(name: str) -> None:
    """Create a tenant and print its first API key (shown once)."""

    async def work(services: Services) -> tuple[uuid.UUID, str]:
        return await services.accounts.create_tenant(name)

    tenant, key = with_services(work)
    console.print(f"tenant {tenant}\nAPI key (shown once): {key}")


@tenants.command("new-key")
def tenants_new_key(tenant: uuid.UUID) -> None:
    """Create another API key for a tenant (shown once)."""

    async def work(services: Services) -> str:
        return await services.accounts.create_api_key(tenant)

    try:
        console.print(f"API key (shown once): {with_services(work)}")
    except LookupError:
        raise typer.BadParameter("no such tenant") from None


def parse_settings(pairs: list[str]) -> dict[str, Any]:
    settings: dict[str, Any] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep:
            raise typer.BadParameter(f"expected name=value, got {name!r}")
        settings[name.strip()] = value
    return settings


@connections.command("create")
def connections_create(
    tenant: Annotated[uuid.UUID, typer.Option(help="Tenant id.")],
    connector: Annotated[str, typer.Option(help="flatchr, ...")],
    setting: Annotated[list[str], typer.Option("--setting", "-s", help="name=value, repeatable.")],
) -> None:
    """Check the credentials with the vendor, store the connection, run its first sync."""

    async def work(services: Services) -> tuple[Any, str, str]:
        connection, token, secret = await connect(
            services, tenant, connector, parse_settings(setting), sync_now=False
        )
        report = await services.sync(connection.id)
        console.print(f"first sync: {report.seen} candidates, {report.rows_written} rows written")
        return connection, token, secret

    try:
        connection, token, secret = with_services(work)
    except (SettingsRejected, CredentialsRejected, ConnectorError) as exc:
        console.print(f"[red]refused:[/red] {exc}")
        raise typer.Exit(1) from None
    console.print(f"connection {connection.id}\nconnector token (shown once): {token}")
    console.print(f"webhook path (shown once): /webhooks/{secret}")


@connections.command("list")
def connections_list(tenant: Annotated[uuid.UUID | None, typer.Option()] = None) -> None:
    """List connections (never their credentials)."""

    async def work(services: Services) -> list[Any]:
        if tenant is None:
            return await services.accounts.all_connections()
        return await services.accounts.connections(tenant)

    table = Table("id", "tenant", "connector", "account", "token", "last full sync")
    for c in with_services(work):
        table.add_row(
            str(c.id),
            str(c.tenant_id),
            c.connector,
            c.account_key,
            c.token_hint,
            str(c.last_full_sync_at or "never"),
        )
    console.print(table)


@connections.command("delete")
def connections_delete(tenant: Annotated[uuid.UUID, typer.Option()], connection: uuid.UUID) -> None:
    """Delete a connection and purge its stored data."""

    async def work(services: Services) -> bool:
        return await services.accounts.delete_connection(tenant, connection)

    if not with_services(work):
        raise typer.BadParameter("no such connection for this tenant")
    console.print("deleted")


@connections.command("rotate-token")
def connections_rotate(tenant: Annotated[uuid.UUID, typer.Option()], connection: uuid.UUID) -> None:
    """Issue a new connector token; the old one stops working at once."""

    async def work(services: Services) -> str | None:
        return await services.accounts.rotate_token(tenant, connection)

    token = with_services(work)
    if token is None:
        raise typer.BadParameter("no such connection for this tenant")
    console.print(f"connector token (shown once): {token}")


@connections.command("rotate-webhook-secret")
def connections_rotate_webhook(
    tenant: Annotated[uuid.UUID, typer.Option()], connection: uuid.UUID
) -> None:
    """Issue a new webhook secret; the old webhook URL answers 404 at once."""

    async def work(services: Services) -> str | None:
        return await services.accounts.rotate_webhook_secret(tenant, connection)

    secret = with_services(work)
    if secret is None:
        raise typer.BadParameter("no such connection for this tenant")
    console.print(f"webhook path (shown once): /webhooks/{secret}")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
