"""A live server per store (SQLite, and PostgreSQL when available: required under CI=true)."""

import asyncio
import importlib.util
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.contract.live import LiveServer, live_server
from tests.service.conftest import PG_URL, _postgres_ready


def require(module: str) -> None:
    """Skip the calling test module when a dev tool is absent; under CI=true, fail instead."""
    if importlib.util.find_spec(module) is None:
        reason = f"{module} is not installed (`uv sync --all-extras` installs the dev group)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}; the contract tests must run under CI", pytrace=False)
        pytest.skip(reason, allow_module_level=True)


def store_url(kind: str, folder: Path) -> str:
    if kind == "sqlite":
        return f"sqlite+aiosqlite:///{folder / 'store.db'}"
    problem = asyncio.run(_postgres_ready())
    if problem:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{problem}; PostgreSQL tests must run under CI")
        pytest.skip(problem)
    return PG_URL


STORES = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(params=STORES)
def live(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LiveServer]:
    """The app on a loopback port with one synced connection per vendor (fresh per test)."""
    with live_server(tmp_path, store_url(request.param, tmp_path)) as server:
        yield server
