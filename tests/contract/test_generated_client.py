"""A client generated from schemas/openapi.json by openapi-python-client (without a single
warning) reads the live API: pages, single reads, downloads as bytes, errors as ErrorBody."""

import importlib
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest

from connectors.flatchr.emulator.data import cv_bytes
from connectors.flatchr.mapping import split_cv_remote_id
from tests.contract.live import API, LiveServer

ROOT = Path(__file__).resolve().parents[2]
OPENAPI = ROOT / "schemas" / "openapi.json"
PACKAGE = "unified_ats_generated_client"
pytestmark = pytest.mark.e2e


def generator() -> Path:
    """The ``openapi-python-client`` script of this environment (the dev group installs it)."""
    script = Path(sys.executable).parent / "openapi-python-client"
    if not script.exists():
        reason = "openapi-python-client is not installed (uv sync --all-extras installs it)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}; the contract tests must run under CI")
        pytest.skip(reason)
    return script


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Generate the client (offline: from the committed document), import it, unload it after."""
    script = generator()
    folder = tmp_path_factory.mktemp("generated")
    # Its post-hooks run ruff: the environment's own, not whatever else is on PATH.
    path = os.pathsep.join([str(script.parent), os.environ.get("PATH", "")])
    result = subprocess.run(
        [
            str(script),
            "generate",
            "--path",
            str(OPENAPI),
            "--output-path",
            str(folder / PACKAGE),
            "--meta",
            "none",
            "--fail-on-warning",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PATH": path},
        cwd=folder,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "warning" not in output.lower(), output
    assert "error" not in output.lower(), output
    sys.path.insert(0, str(folder))
    try:
        modules = {
            name: importlib.import_module(f"{PACKAGE}.{name}")
            for name in (
                "client",
                "errors",
                "types",
                "models",
                "api.candidates.candidates_list",
                "api.candidates.candidates_get",
                "api.attachments.attachments_list",
                "api.attachments.attachments_get",
                "api.attachments.attachments_download",
                "api.connections.connections_list",
            )
        }
        yield modules
    finally:
        sys.path.remove(str(folder))
        for name in [m for m in sys.modules if m == PACKAGE or m.startswith(f"{PACKAGE}.")]:
            del sys.modules[name]


def client_for(gen: dict[str, Any], live: LiveServer, token: str | None) -> Any:
    """ApiKey is an http bearer scheme (the client's ``token``); ConnectorToken an apiKey header,
    which openapi-python-client leaves to the caller's headers."""
    headers = {"x-connector-token": token} if token else {}
    return gen["client"].AuthenticatedClient(
        base_url=live.base_url,
        token=live.api_key,
        headers=headers,
        raise_on_unexpected_status=True,
        timeout=httpx.Timeout(30.0),
    )


def models(gen: dict[str, Any]) -> ModuleType:
    return gen["models"]


def test_the_generated_client_reads_pages_and_downloads(
    generated: dict[str, Any], live: LiveServer
) -> None:
    gen = generated
    candidates_list = gen["api.candidates.candidates_list"]
    candidates_get = gen["api.candidates.candidates_get"]
    attachments_list = gen["api.attachments.attachments_list"]
    attachments_get = gen["api.attachments.attachments_get"]
    download = gen["api.attachments.attachments_download"]
    types = gen["types"]

    # What the API holds, read without the generated client.
    with httpx.Client(base_url=live.base_url, headers=live.headers(), timeout=30) as raw:
        everything = raw.get(f"{API}/candidates", params={"page_size": 200}).json()
    assert everything["cursor"] is None
    expected = [item["id"] for item in everything["items"]]
    assert len(expected) == 30

    with client_for(gen, live, live.token("flatchr")) as client:
        # Page through with the cursor until the end: every record exactly once, in order.
        seen: list[str] = []
        cursor: str | types.Unset = types.UNSET
        pages = 0
        while True:
            page = candidates_list.sync(client=client, page_size=7, cursor=cursor)
            assert isinstance(page, models(gen).PageCandidate), page
            assert page.page_size == 7
            assert all(isinstance(c, models(gen).Candidate) for c in page.items)
            seen += [str(c.id) for c in page.items]
            pages += 1
            if not page.cursor:
                break
            cursor = page.cursor
        assert seen == expected
        assert pages == -(-len(expected) // 7)

        # One candidate, typed; its attachment listed, read and downloaded as bytes.
        with_cv = next(item for item in everything["items"] if item["attachments"])
        candidate = candidates_get.sync(uuid.UUID(with_cv["id"]), client=client)
        assert isinstance(candidate, models(gen).Candidate), candidate
        assert str(candidate.id) == with_cv["id"]
        assert candidate.first_name == with_cv["first_name"]
        assert [str(a) for a in candidate.attachments] == with_cv["attachments"]

        listed = attachments_list.sync(client=client, candidate=candidate.id)
        assert isinstance(listed, models(gen).PageAttachment), listed
        assert [str(a.id) for a in listed.items] == with_cv["attachments"]
        attachment = attachments_get.sync(listed.items[0].id, client=client)
        assert isinstance(attachment, models(gen).Attachment), attachment
        assert attachment.file_url == f"{live.base_url}{API}/attachments/{attachment.id}/download"

        response = download.sync_detailed(attachment.id, client=client)
        assert response.status_code == 200
        assert isinstance(response.parsed, types.File), response.parsed
        content = response.parsed.payload.read()
        assert content, "the download is empty"
        assert isinstance(attachment.remote_id, str)
        assert content == cv_bytes(*split_cv_remote_id(attachment.remote_id))
        assert "attachment;" in response.headers["content-disposition"]

        # A 404 is parsed as the error body, on a single read and on a download.
        missing = uuid.uuid4()
        not_found = candidates_get.sync_detailed(missing, client=client)
        assert not_found.status_code == 404
        assert isinstance(not_found.parsed, models(gen).ErrorBody), not_found.parsed
        assert isinstance(not_found.parsed.detail, str) and not_found.parsed.detail
        gone = download.sync_detailed(missing, client=client)
        assert gone.status_code == 404
        assert isinstance(gone.parsed, models(gen).ErrorBody), gone.parsed


def test_the_generated_client_needs_both_credentials(
    generated: dict[str, Any], live: LiveServer
) -> None:
    gen = generated
    candidates_list = gen["api.candidates.candidates_list"]
    connections_list = gen["api.connections.connections_list"]

    # The API-key-only routes work without a connector token; the data routes do not.
    with client_for(gen, live, None) as client:
        connections = connections_list.sync(client=client)
        assert isinstance(connections, list)
        assert {str(c.id) for c in connections} == {c["id"] for c in live.connections.values()}
        refused = candidates_list.sync_detailed(client=client)
        assert refused.status_code == 401
        assert isinstance(refused.parsed, models(gen).ErrorBody), refused.parsed

    # The other vendors' connections answer through the same generated models.
    for connector in ("welcomekit", "viasto"):
        with client_for(gen, live, live.token(connector)) as client:
            page = candidates_list.sync(client=client, page_size=200)
            assert isinstance(page, models(gen).PageCandidate), page
            assert page.items and page.cursor is None
