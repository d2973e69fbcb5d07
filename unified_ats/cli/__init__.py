"""The ``unified-ats`` command line: the demo, the server, and operator tasks.

This module imports nothing but the standard library: ``pip install unified-ats`` (the SDK,
without the ``server`` extra) still installs the console script, which must then say what is
missing instead of crashing. The commands live in :mod:`unified_ats.cli.commands`, which imports
only typer and rich at the top; each command imports the server stack in its body, so
``unified-ats --help`` loads no SQLAlchemy, Alembic, FastAPI or uvicorn.
"""

import sys
from typing import TYPE_CHECKING, Any

from unified_ats.cli.errors import SERVER_EXTRA_MISSING, needs_server_extra

if TYPE_CHECKING:
    import typer

    app: typer.Typer


def main(argv: list[str] | None = None) -> None:
    """The console script: one line on stderr and exit 2 when the server extra is missing."""
    try:
        from unified_ats.cli.commands import app
    except ModuleNotFoundError as exc:
        if not needs_server_extra(exc):
            raise
        print(SERVER_EXTRA_MISSING, file=sys.stderr)
        raise SystemExit(2) from None
    app(args=argv, prog_name="unified-ats")


def __getattr__(name: str) -> Any:
    if name == "app":  # ``from unified_ats.cli import app`` (tests, typer's CliRunner)
        from unified_ats.cli.commands import app

        return app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["app", "main"]
