"""Layers import downward only: unified_ats -> connectors -> schemas; the SDK needs no server."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
FORBIDDEN = {"schemas": {"connectors", "unified_ats"}, "connectors": {"unified_ats"}}
SERVER_STACK = ("fastapi", "uvicorn", "sqlalchemy", "alembic", "starlette", "typer")


def imported_top_levels(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_lower_layer_never_imports_a_higher_one(package: str) -> None:
    offenders = {
        str(path.relative_to(ROOT)): sorted(imported_top_levels(path) & FORBIDDEN[package])
        for path in (ROOT / package).rglob("*.py")
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_sdk_imports_without_the_server_stack() -> None:
    blocker = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        f"        if name.split('.')[0] in {SERVER_STACK!r}:\n"
        "            raise ImportError('server stack imported: ' + name)\n"
        "sys.meta_path.insert(0, Block())\n"
        "import schemas, connectors, connectors.flatchr\n"
        "from connectors import default_registry\n"
        "assert 'flatchr' in default_registry().names()\n"
        "default_registry().get('flatchr')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", blocker], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
