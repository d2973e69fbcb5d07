"""The console script on a light import path: ``--help`` loads no server stack, and an SDK-only
install (``pip install unified-ats``, no ``server`` extra) gets one line, not a crash.

Checked on the modules imported, not on time: each case runs in a fresh interpreter."""

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SERVER_STACK = ("sqlalchemy", "alembic", "fastapi", "uvicorn", "asyncpg", "aiosqlite", "starlette")


def python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "COLUMNS": "120"},
    )


@pytest.mark.parametrize(
    "argv",
    [
        ["--help"],
        ["tenants", "--help"],
        ["connections", "--help"],
        ["connections", "create", "--help"],
        ["sync", "--help"],
        ["connectors", "list"],
    ],
)
def test_help_imports_no_server_stack(argv: list[str]) -> None:
    done = python(
        f"""
        import json, sys
        from unified_ats.cli import main
        try:
            main({argv!r})
        except SystemExit as exit:
            code = exit.code
        else:
            code = 0
        loaded = sorted({{m.split(".")[0] for m in sys.modules}})
        print(json.dumps({{"code": code, "modules": loaded}}))
        """
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["code"] in (0, None), done.stdout
    assert "Usage" in done.stdout or "flatchr" in done.stdout
    assert not set(report["modules"]) & set(SERVER_STACK), report["modules"]


BLOCKER = """
import importlib.abc, sys

class Missing(importlib.abc.MetaPathFinder):
    # What an SDK-only install looks like: the server extra's packages are absent.
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {blocked!r}:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
        return None

sys.meta_path.insert(0, Missing())
"""


def run_without(blocked: set[str], argv: list[str]) -> subprocess.CompletedProcess[str]:
    return python(
        BLOCKER.format(blocked=sorted(blocked))
        + f"\nfrom unified_ats.cli import main\nmain({argv!r})\n"
    )


EXTRA = "the unified-ats command needs the server extra: pip install 'unified-ats[server]'"


def test_an_sdk_only_install_says_which_extra_is_missing() -> None:
    done = run_without({"typer", "click", "rich", *SERVER_STACK}, ["--help"])
    assert done.returncode == 2
    assert done.stderr.strip() == EXTRA
    assert done.stdout == ""


def test_a_command_that_needs_the_missing_stack_says_so_too() -> None:
    done = run_without(set(SERVER_STACK), ["tenants", "list"])
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip() == f"error: {EXTRA}"


def test_the_sdk_itself_needs_no_server_stack() -> None:
    done = python(
        BLOCKER.format(blocked=sorted({"typer", "click", "rich", *SERVER_STACK}))
        + "\nfrom connectors import default_registry\n"
        + "print(sorted(c.name for c in default_registry().all()))\n"
    )
    assert done.returncode == 0, done.stderr
    assert "flatchr" in done.stdout
