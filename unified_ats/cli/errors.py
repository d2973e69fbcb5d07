"""What the command line says when a command fails: one line, no traceback, no secret.

Every failure becomes ``error: <what>`` on stderr and a non-zero exit: 2 when the input is at
fault (an unknown tenant or connection id, a setting that does not validate, a bad
``UNIFIED_ATS_*`` variable, a missing extra), 1 when the operation failed (the vendor refused,
the store is down, anything unexpected). The message names the field or id at fault, and never
holds SQL, submitted values, token hashes or internal hosts and ports. ``--debug`` re-raises
instead, with the traceback.

Standard library only at import time: the console script imports this before it knows whether
the server extra is installed.
"""

import sys
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

SERVER_EXTRA_MISSING = (
    "the unified-ats command needs the server extra: pip install 'unified-ats[server]'"
)
SERVER_MODULES = frozenset(
    {
        "typer",
        "click",
        "rich",
        "fastapi",
        "starlette",
        "uvicorn",
        "sqlalchemy",
        "alembic",
        "aiosqlite",
        "asyncpg",
        "cryptography",
        "pydantic_settings",
        "redis",
        "multipart",
        "python_multipart",
    }
)
ENV_PREFIX = "UNIFIED_ATS_"
INPUT = 2
FAILED = 1


class CliError(Exception):
    """A failure the command explains itself: ``message`` is shown as it is."""

    def __init__(self, message: str, *, exit_code: int = FAILED) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code


class UnknownId(CliError):
    """No tenant or connection with this id (in this store, or for this tenant)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, exit_code=INPUT)


def needs_server_extra(exc: ModuleNotFoundError) -> bool:
    return (exc.name or "").split(".")[0] in SERVER_MODULES


def field_errors(errors: Iterable[Mapping[str, Any]], *, env: bool = False) -> str:
    """``field: message`` per error, ``; ``-joined; the submitted input is never shown."""
    parts = []
    for error in errors:
        loc: Sequence[Any] = error.get("loc") or ()
        where = ".".join(str(part) for part in loc) or "settings"
        if env:
            where = ENV_PREFIX + where.upper()
        parts.append(f"{where}: {error.get('msg', 'invalid')}")
    return "; ".join(parts)


def _loaded(module: str, name: str) -> type[BaseException] | None:
    """An exception class, only if its module is already imported (then ``exc`` may be one);
    never imports the server stack just to describe an error."""
    kind = getattr(sys.modules.get(module), name, None)
    return kind if isinstance(kind, type) and issubclass(kind, BaseException) else None


def _is(exc: BaseException, module: str, name: str) -> bool:
    kind = _loaded(module, name)
    return kind is not None and isinstance(exc, kind)


def describe(exc: BaseException) -> tuple[str, int]:
    """The one line shown for ``exc``, and the exit code."""
    if isinstance(exc, CliError):
        return exc.message, exc.exit_code
    if isinstance(exc, ModuleNotFoundError) and needs_server_extra(exc):
        return SERVER_EXTRA_MISSING, INPUT
    if _is(exc, "unified_ats.connector_pool", "SettingsRejected"):
        errors = getattr(exc, "errors", [])
        detail = field_errors(errors)
        return (f"{exc}: {detail}" if detail else str(exc)), INPUT
    if _is(exc, "unified_ats.onboarding", "CredentialsRejected"):
        return str(exc), FAILED
    if _is(exc, "pydantic_core", "ValidationError"):
        title = getattr(exc, "title", "")
        errors = exc.errors(include_url=False, include_input=False, include_context=False)  # type: ignore[attr-defined]
        if title == "Settings":  # the service's UNIFIED_ATS_* environment
            return f"invalid environment: {field_errors(errors, env=True)}", INPUT
        return f"invalid {title or 'value'}: {field_errors(errors)}", INPUT
    if _is(exc, "connectors.sdk.errors", "ConnectorError"):
        # Built from the method and the URL path only: no host, no query string, no secret.
        return f"{type(exc).__name__}: {getattr(exc, 'message', '')}", FAILED
    if _is(exc, "cryptography.fernet", "InvalidToken"):
        return (
            "stored credentials cannot be decrypted: UNIFIED_ATS_ENCRYPTION_KEYS (or "
            "data_dir/encryption.key) is not the key they were stored with",
            FAILED,
        )
    if _is(exc, "sqlalchemy.exc", "SQLAlchemyError") or _is(exc, "asyncpg", "PostgresError"):
        # Their text holds the statement, its parameters and the server's address.
        return (
            f"the store failed ({type(exc).__name__}); check UNIFIED_ATS_DATABASE_URL and that "
            "the database is up (--debug shows the traceback)",
            FAILED,
        )
    if isinstance(exc, ConnectionError | TimeoutError) or _is(exc, "socket", "gaierror"):
        return (
            f"the database could not be reached ({type(exc).__name__}); check "
            "UNIFIED_ATS_DATABASE_URL",
            FAILED,
        )
    if isinstance(exc, OSError) and exc.strerror:
        where = f": {exc.filename}" if exc.filename else ""
        return f"{exc.strerror}{where}", FAILED
    return (
        f"internal error ({type(exc).__name__}); run with --debug for the traceback",
        FAILED,
    )


__all__ = [
    "SERVER_EXTRA_MISSING",
    "CliError",
    "UnknownId",
    "describe",
    "field_errors",
    "needs_server_extra",
]
