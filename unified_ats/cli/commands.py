"""The ``unified-ats`` commands.

Only typer and rich are imported here; every command imports what it needs from the server
stack (SQLAlchemy, Alembic, FastAPI, uvicorn) in its body, so ``--help`` stays light. A failure
is one line on stderr (see :mod:`unified_ats.cli.errors`); ``--debug`` shows the traceback.
"""

import asyncio
import json
import signal
import sys
import uuid
from collections.abc import Awaitable, Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.measure import Measurement
from rich.table import Table
from typer.core import TyperGroup

from unified_ats.cli.errors import CliError, UnknownId, describe

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

    from connectors import Connector, ConnectorSettings
    from unified_ats.services import Services
    from unified_ats.store.accounts import ConnectionInfo
    from unified_ats.sync import SyncReport

T = TypeVar("T")
OPENAPI_PATH = Path(__file__).resolve().parents[2] / "schemas" / "openapi.json"
QUEUED = "queued behind the running sync"


class CliGroup(TyperGroup):
    """The root command: every failure of any subcommand ends here, as one stderr line."""

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        windows_expand_args: bool = True,
        **extra: Any,
    ) -> Any:
        if not standalone_mode:
            return super().main(
                args, prog_name, complete_var, standalone_mode, windows_expand_args, **extra
            )
        try:
            code = super().main(args, prog_name, complete_var, False, windows_expand_args, **extra)
        except typer.TyperException as exc:  # a usage error: one line, naming the parameter
            if type(exc).__name__ != "NoArgsIsHelpError":  # that one has shown the help
                ctx = getattr(exc, "ctx", None)
                hint = f" (see `{ctx.command_path} --help`)" if ctx is not None else ""
                typer.echo(f"error: {exc.format_message()}{hint}", err=True)
            sys.exit(exc.exit_code)
        except typer.Abort:
            typer.echo("error: aborted", err=True)
            sys.exit(1)
        sys.exit(code if isinstance(code, int) else 0)

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, typer.TyperException):
            raise  # exits, and usage errors (typer names the parameter)
        except Exception as exc:
            if ctx.params.get("debug"):
                raise
            message, code = describe(exc)
            typer.echo(f"error: {message}", err=True)
            raise typer.Exit(code) from None


app = typer.Typer(
    cls=CliGroup,
    no_args_is_help=True,
    help="unified-ats: unified ATS API and connector SDK.",
    pretty_exceptions_show_locals=False,  # --debug: a traceback, never the secrets in locals
)
tenants = typer.Typer(no_args_is_help=True, help="Tenants and their API keys.")
connections = typer.Typer(no_args_is_help=True, help="A tenant's connections to ATS accounts.")
connectors_app = typer.Typer(no_args_is_help=True, help="The connectors this server offers.")
app.add_typer(tenants, name="tenants")
app.add_typer(connections, name="connections")
app.add_typer(connectors_app, name="connectors")
webhooks_app = typer.Typer(no_args_is_help=True, help="Outbound webhooks: see events arrive.")
app.add_typer(webhooks_app, name="webhooks")
console = Console()


def show(table: Table) -> None:
    """Print a table at its natural width: ids are never truncated, whatever the terminal."""
    natural = Measurement.get(console, console.options.update(max_width=10_000), table).maximum
    Console(width=max(console.width, natural)).print(table, crop=False)


def with_services(work: Callable[["Services"], Awaitable[T]]) -> T:
    from unified_ats.services import Services
    from unified_ats.settings import Settings

    async def run() -> T:
        services = await Services.start(Settings())
        try:
            return await work(services)
        finally:
            await services.aclose()

    return asyncio.run(run())


async def known_tenant(services: "Services", tenant: uuid.UUID) -> None:
    if await services.accounts.tenant(tenant) is None:
        raise UnknownId(f"no tenant {tenant} (see `unified-ats tenants list`)")


async def tenant_connection(
    services: "Services", tenant: uuid.UUID, connection: uuid.UUID
) -> "ConnectionInfo":
    await known_tenant(services, tenant)
    found = await services.accounts.connection(connection)
    if found is None or found.tenant_id != tenant:
        raise UnknownId(f"no connection {connection} for tenant {tenant}")
    return found


@app.callback()
def root(
    debug: Annotated[
        bool,
        typer.Option(
            "--debug",
            envvar="UNIFIED_ATS_DEBUG",
            help="On failure, show the traceback instead of one line.",
        ),
    ] = False,
) -> None:
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
    size: Annotated[int, typer.Option(min=0, help="Candidates per account.")] = 25,
    host: Annotated[str, typer.Option(help="Address to bind.")] = "127.0.0.1",
    accounts: Annotated[
        int,
        typer.Option(
            min=1, help="Accounts served (company ids and keys derived: docs/emulators.md)."
        ),
    ] = 1,
) -> None:
    """Run one vendor emulator alone, seeded, with its /_emulator/ control API.

    Prints one JSON line (vendor, base_url, connection settings) once it accepts connections,
    then serves until Ctrl-C or SIGTERM. Credentials and control routes: docs/emulators.md.
    """
    from unified_ats.demo.emulators import BUILDERS, run_emulator

    if vendor not in BUILDERS:
        raise typer.BadParameter(f"choose one of {', '.join(BUILDERS)}", param_hint="VENDOR")
    run_emulator(
        vendor,
        port=port,
        size=size,
        host=host,
        announce=lambda s: print(s, flush=True),
        accounts=accounts,
    )
    typer.echo("emulator stopped", err=True)


@webhooks_app.command("listen")
def webhooks_listen(
    port: Annotated[int, typer.Option(help="Port to receive on.")] = 8765,
    host: Annotated[str, typer.Option(help="Address to bind.")] = "127.0.0.1",
    secret: Annotated[
        str | None,
        typer.Option(envvar="UNIFIED_ATS_WEBHOOK_SECRET", help="The endpoint's whsec_ secret."),
    ] = None,
    api_key: Annotated[
        str | None,
        typer.Option(
            envvar="UNIFIED_ATS_API_KEY",
            help="Register this receiver as an endpoint of your tenant (removed on exit).",
        ),
    ] = None,
    api_url: Annotated[str, typer.Option(help="The unified-ats server.")] = "http://127.0.0.1:8000",
    events: Annotated[str, typer.Option(help="Comma-separated filters.")] = "*",
    json_lines: Annotated[bool, typer.Option("--json", help="One JSON line per event.")] = False,
) -> None:
    """Receive, verify and print events. With --api-key it subscribes itself (the server must
    allow loopback targets: UNIFIED_ATS_WEBHOOK_ALLOWED_TARGETS, as the demo does)."""
    import uvicorn

    from unified_ats.cli.listen import receiver_app
    from unified_ats.client import Client

    endpoint_id = None
    client = Client(api_url, api_key) if api_key else None
    if client is not None:
        url = f"http://{host}:{port}/"
        created = client.webhooks.create(
            url, events=[e.strip() for e in events.split(",") if e.strip()], description="listen"
        )
        endpoint_id, secret = created.id, created.secret
        console.print(f"subscribed {url} (endpoint {endpoint_id}) to {events}")
    if secret is None:
        console.print("no --secret: events are printed unverified")
    console.print(f"listening on http://{host}:{port}/ (Ctrl-C to stop)")
    app_ = receiver_app(secret, lambda line: print(line, flush=True), as_json=json_lines)

    def stop(*_: object) -> None:
        raise KeyboardInterrupt  # uvicorn re-raises SIGTERM after its shutdown: clean up first

    signal.signal(signal.SIGTERM, stop)
    try:
        uvicorn.run(app_, host=host, port=port, log_level="warning")
    except KeyboardInterrupt:
        pass
    finally:
        if client is not None and endpoint_id is not None:
            client.webhooks.delete(endpoint_id)
            client.close()
            console.print(f"endpoint {endpoint_id} removed")
        sys.stdout.flush()


@app.command()
def serve(
    host: Annotated[str, typer.Option()] = "127.0.0.1",
    port: Annotated[int, typer.Option()] = 8000,
) -> None:
    """Run the API server (settings from UNIFIED_ATS_* environment variables)."""
    import uvicorn

    from unified_ats.api.app import create_app
    from unified_ats.settings import Settings

    uvicorn.run(create_app(Settings()), host=host, port=port, log_level="info")


@app.command()
def worker(
    concurrency: Annotated[
        int | None,
        typer.Option(min=1, help="Jobs run at a time (default: UNIFIED_ATS_WORKER_CONCURRENCY)."),
    ] = None,
    name: Annotated[str, typer.Option(help="This worker's name in logs.")] = "worker",
) -> None:
    """Run syncs, webhook deliveries and the periodic tick as procrastinate jobs (PostgreSQL).

    Start as many as needed, on any host that reaches the database. SIGTERM: running jobs get
    UNIFIED_ATS_WORKER_SHUTDOWN_SECONDS to finish, the rest are retried by another worker.
    """
    import logging

    from unified_ats.settings import Settings

    settings = Settings()
    if not settings.uses_procrastinate():
        raise typer.BadParameter(
            "workers need PostgreSQL (UNIFIED_ATS_DATABASE_URL=postgresql+asyncpg://…); "
            "on SQLite `unified-ats serve` runs every job itself",
            param_hint="UNIFIED_ATS_DATABASE_URL",
        )
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")

    async def work(services: "Services") -> None:
        from unified_ats.jobs.pg import ProcrastinateRunner

        assert isinstance(services.jobs, ProcrastinateRunner)
        await services.jobs.run_worker(
            concurrency=concurrency or settings.worker_concurrency, name=name
        )

    with_services(work)
    typer.echo("worker stopped", err=True)


@app.command("jobs")
def jobs_command(
    json_line: Annotated[bool, typer.Option("--json", help="One JSON object instead.")] = False,
) -> None:
    """Queued, running and failed jobs per kind (syncs, deliveries, the tick)."""

    async def work(services: "Services") -> tuple[str, list[Any]]:
        return services.jobs.name, await services.jobs.counts()

    runner, counts = with_services(work)
    if json_line:
        typer.echo(
            json.dumps(
                {
                    "runner": runner,
                    "jobs": {
                        c.kind: {"queued": c.queued, "running": c.running, "failed": c.failed}
                        for c in counts
                    },
                }
            )
        )
        return
    table = Table("kind", "queued", "running", "failed", title=f"jobs ({runner})")
    for c in counts:
        table.add_row(c.kind, str(c.queued), str(c.running), str(c.failed))
    show(table)


@app.command()
def schema(
    model: Annotated[
        str, typer.Argument(help="candidate, attachment, candidate_page, ...")
    ] = "candidate",
) -> None:
    """Print the JSON Schema of a public model."""
    from schemas.export import EXPORTED, render

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


def finish_task(progress: "Progress", task: "TaskID", *, failed: bool = False) -> None:
    """Stop a task's clock and spinner: its bar is complete at what it saw, its elapsed time
    frozen, whatever the other tasks still do."""
    current = next(t for t in progress.tasks if t.id == task)
    done = int(current.completed)
    description = f"{current.description} [red]failed[/red]" if failed else current.description
    progress.update(task, total=done, completed=done, description=description)
    progress.stop_task(task)


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

    from unified_ats.sync import SyncProgress, SyncQueued, describe_failure

    if (connection is None) == (not all_connections):
        raise typer.BadParameter("give one connection id, or --all")

    async def work(services: "Services") -> list[tuple[str, "SyncReport | str"]]:
        if all_connections:
            targets = [c.id for c in await services.accounts.all_connections()]
        else:
            assert connection is not None
            if await services.accounts.connection(connection) is None:
                raise UnknownId(f"no connection {connection} (see `unified-ats connections list`)")
            targets = [connection]
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
                task = progress.add_task(str(target), total=None, rate="-")

                def update(p: SyncProgress, task: "TaskID" = task) -> None:
                    elapsed = progress.tasks[task].elapsed or 0.0
                    rate = f"{p.seen / elapsed:,.0f}" if elapsed > 0 else "-"
                    progress.update(task, completed=p.seen, total=p.total, rate=rate)

                failed = False
                try:
                    report = await services.sync(
                        target, full=True if full else None, progress=update
                    )
                    results.append((str(target), report))
                except SyncQueued:
                    results.append((str(target), QUEUED))
                except Exception as exc:  # the mapped reason only: never SQL or values
                    failed = True
                    results.append((str(target), describe_failure(exc)))
                finally:
                    finish_task(progress, task, failed=failed)
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
    show(table)
    if models.row_count:
        show(models)
    if failed:
        raise typer.Exit(1)


@tenants.command("create")
def tenants_create(name: str) -> None:
    """Create a tenant and print its first API key (shown once)."""

    async def work(services: "Services") -> tuple[uuid.UUID, str]:
        return await services.accounts.create_tenant(name)

    tenant, key = with_services(work)
    console.print(f"tenant {tenant}\nAPI key (shown once): {key}")


@tenants.command("list")
def tenants_list() -> None:
    """List tenants (never their API keys: only how many are live)."""

    async def work(services: "Services") -> list[Any]:
        return await services.accounts.tenants()

    table = Table("id", "name", "created", "API keys", "connections")
    for t in with_services(work):
        table.add_row(
            str(t.id),
            t.name,
            t.created_at.strftime("%Y-%m-%d %H:%M:%S"),
            str(t.api_keys),
            str(t.connections),
        )
    show(table)


@tenants.command("new-key")
def tenants_new_key(tenant: uuid.UUID) -> None:
    """Create another API key for a tenant (shown once)."""

    async def work(services: "Services") -> str:
        await known_tenant(services, tenant)
        return await services.accounts.create_api_key(tenant)

    console.print(f"API key (shown once): {with_services(work)}")


@tenants.command("link-redirects")
def tenants_link_redirects(
    tenant: uuid.UUID,
    allow: Annotated[
        list[str] | None,
        typer.Option(
            "--allow",
            help="An allowed redirect URL: exact, or https://origin/path/* for any URL below "
            "it (https only; http for localhost). Repeatable; replaces the list.",
        ),
    ] = None,
    clear: Annotated[bool, typer.Option("--clear", help="Allow no redirect URL.")] = False,
) -> None:
    """Show or set where the tenant's hosted link pages may send end users back."""
    from unified_ats.linking import MAX_REDIRECT_URLS, link_tokens, url_problem

    urls = list(dict.fromkeys(allow or []))
    if urls and clear:
        raise CliError("give --allow or --clear, not both", exit_code=2)
    for url in urls:
        problem = url_problem(url, pattern=True)
        if problem is not None:
            raise CliError(f"{url!r} {problem}", exit_code=2)
    if len(urls) > MAX_REDIRECT_URLS:
        raise CliError(f"at most {MAX_REDIRECT_URLS} redirect URLs", exit_code=2)

    async def work(services: "Services") -> list[str]:
        await known_tenant(services, tenant)
        tokens = link_tokens(services)
        if urls or clear:
            await tokens.set_redirect_urls(tenant, urls)
        return await tokens.redirect_urls(tenant)

    allowed = with_services(work)
    console.print("\n".join(allowed) if allowed else "no redirect URL is allowed", markup=False)


def parse_settings(pairs: list[str]) -> dict[str, Any]:
    settings: dict[str, Any] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            # Never echo the pair: it may be a credential typed without its name.
            raise CliError("each --setting is name=value", exit_code=2)
        settings[name.strip()] = value
    return settings


@connections.command("create")
def connections_create(
    tenant: Annotated[uuid.UUID, typer.Option(help="Tenant id.")],
    connector: Annotated[str, typer.Option(help="See `unified-ats connectors list`.")],
    setting: Annotated[
        list[str] | None, typer.Option("--setting", "-s", help="name=value, repeatable.")
    ] = None,
) -> None:
    """Check the credentials with the vendor, store the connection, run its first sync."""
    from unified_ats.onboarding import connect

    settings = parse_settings(setting or [])

    async def work(services: "Services") -> tuple[Any, str, str]:
        await known_tenant(services, tenant)
        connection, token, secret = await connect(
            services, tenant, connector, settings, sync_now=False
        )
        report = await services.sync(connection.id)
        console.print(f"first sync: {report.seen} candidates, {report.rows_written} rows written")
        return connection, token, secret

    connection, token, secret = with_services(work)
    console.print(f"connection {connection.id}\nconnector token (shown once): {token}")
    console.print(f"webhook path (shown once): /webhooks/{secret}")


@connections.command("list")
def connections_list(
    tenant: Annotated[uuid.UUID | None, typer.Option(help="Only this tenant's.")] = None,
) -> None:
    """List connections (never their credentials)."""

    async def work(services: "Services") -> list[Any]:
        if tenant is None:
            return await services.accounts.all_connections()
        await known_tenant(services, tenant)
        return await services.accounts.connections(tenant)

    table = Table("id", "tenant", "connector", "account", "token", "last full sync")
    for c in with_services(work):
        table.add_row(
            str(c.id),
            str(c.tenant_id),
            c.connector,
            c.account_key,
            c.token_hint,
            c.last_full_sync_at.strftime("%Y-%m-%d %H:%M:%S") if c.last_full_sync_at else "never",
        )
    show(table)


@connections.command("delete")
def connections_delete(tenant: Annotated[uuid.UUID, typer.Option()], connection: uuid.UUID) -> None:
    """Delete a connection and purge its stored data."""

    async def work(services: "Services") -> None:
        await tenant_connection(services, tenant, connection)
        if not await services.accounts.delete_connection(tenant, connection):
            raise UnknownId(f"no connection {connection} for tenant {tenant}")

    with_services(work)
    console.print(f"deleted connection {connection}")


@connections.command("rotate-token")
def connections_rotate(tenant: Annotated[uuid.UUID, typer.Option()], connection: uuid.UUID) -> None:
    """Issue a new connector token; the old one stops working at once."""

    async def work(services: "Services") -> str:
        await tenant_connection(services, tenant, connection)
        token = await services.accounts.rotate_token(tenant, connection)
        if token is None:
            raise UnknownId(f"no connection {connection} for tenant {tenant}")
        return token

    console.print(f"connector token (shown once): {with_services(work)}")


@connections.command("rotate-webhook-secret")
def connections_rotate_webhook(
    tenant: Annotated[uuid.UUID, typer.Option()], connection: uuid.UUID
) -> None:
    """Issue a new webhook secret; the old webhook URL answers 404 at once."""

    async def work(services: "Services") -> str:
        await tenant_connection(services, tenant, connection)
        secret = await services.accounts.rotate_webhook_secret(tenant, connection)
        if secret is None:
            raise UnknownId(f"no connection {connection} for tenant {tenant}")
        return secret

    console.print(f"webhook path (shown once): /webhooks/{with_services(work)}")


def settings_fields(connector: "type[Connector[ConnectorSettings]]") -> Iterable[str]:
    """Each setting as ``name`` with what an operator must know: required, secret, default."""
    from pydantic import SecretStr

    for name, field in connector.settings_model.model_fields.items():
        notes = []
        if field.is_required():
            notes.append("required")
        if field.annotation is SecretStr:
            notes.append("secret")
        if name == "base_url":
            notes.append("needs UNIFIED_ATS_ALLOW_BASE_URL_OVERRIDE")
        elif not field.is_required():
            notes.append(f"default {field.get_default()!r}")
        yield f"{name} ({', '.join(notes)})"


@connectors_app.command("list")
def connectors_list() -> None:
    """List the connectors on this server: capabilities and settings fields."""
    from connectors import default_registry

    table = Table("name", "vendor", "capabilities", "settings (-s name=value)")
    for connector in sorted(default_registry().all(), key=lambda c: c.name):
        table.add_row(
            connector.name,
            connector.display_name,
            "\n".join(sorted(connector.capabilities)),
            "\n".join(settings_fields(connector)),
        )
    show(table)


__all__ = ["app", "finish_task"]
