"""docs/api.md's routes table lists every route the OpenAPI document declares, and nothing the
app does not serve; its commands run with the extras they need."""

import json
import re
from pathlib import Path

import httpx
import pytest

from unified_ats.api.app import create_app
from unified_ats.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
API_MD = ROOT / "docs" / "api.md"
OPENAPI = ROOT / "schemas" / "openapi.json"
METHODS = ("get", "post", "put", "patch", "delete")
NOT_IN_OPENAPI = {("GET", "/openapi.json"), ("GET", "/docs"), ("GET", "/redoc")}


def shape(path: str) -> str:
    return re.sub(r"\{[^}]*\}", "{}", path)


def documented() -> set[tuple[str, str]]:
    text = API_MD.read_text(encoding="utf-8")
    section = text[text.index("## Routes") :]
    section = section[: section.index("\n## ", 1)]
    routes = set()
    for row in re.findall(r"^\| (`[A-Z]+ [^|]+?) \|", section, re.M):
        for method, path in re.findall(r"`([A-Z]+) ([^`\s]+)`", row):
            routes.add((method, shape(path)))
    return routes


def declared() -> set[tuple[str, str]]:
    paths = json.loads(OPENAPI.read_text(encoding="utf-8"))["paths"]
    return {
        (method.upper(), shape(path))
        for path, operations in paths.items()
        for method in operations
        if method in METHODS
    }


def test_every_openapi_route_is_in_the_routes_table() -> None:
    missing = declared() - documented()
    assert not missing, f"docs/api.md's routes table lacks {sorted(missing)}"


def test_the_routes_table_lists_nothing_else() -> None:
    extra = documented() - declared() - NOT_IN_OPENAPI
    assert not extra, f"docs/api.md documents routes the API does not declare: {sorted(extra)}"


@pytest.mark.parametrize("method, path", sorted(NOT_IN_OPENAPI))
async def test_the_routes_outside_openapi_are_served(
    method: str, path: str, tmp_path: Path
) -> None:
    app = create_app(Settings(data_dir=tmp_path))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        assert (await client.request(method, path)).status_code == 200


def test_every_documented_command_installs_the_extras_it_needs() -> None:
    for doc in ("api.md", "sdk.md"):
        for line in (ROOT / "docs" / doc).read_text(encoding="utf-8").splitlines():
            if re.search(r"\buv run (?!--all-extras)", line):
                pytest.fail(f"docs/{doc}: `uv run` without --all-extras: {line.strip()}")
