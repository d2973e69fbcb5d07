"""docs/sdk.md's example runs as written against each vendor's emulator (never a real vendor):
every candidate with a file gets exactly one, none without, and a hostile vendor file name
cannot leave the target directory."""

import dataclasses
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from connectors import FileDownload, default_registry
from connectors.sdk.emulation import EmulatorTransport
from connectors.sdk.http import RetryPolicy
from tests.docs_examples import example, examples
from unified_ats.demo.emulators import BUILDERS, SeededEmulator

TESTED = {
    "sdk.md": {"download-first-files"},  # here
    "api.md": {"which-job-which-stage"},  # tests/service/test_docs_examples.py
    "writes.md": {"push-candidate-with-cv"},  # tests/service/test_writes.py
    "webhooks.md": {"verify-and-dedupe"},  # tests/service/test_outbound_webhooks.py
    "link.md": {"link"},  # tests/client/test_link_docs.py
}


def test_every_example_in_the_docs_has_a_test() -> None:
    for doc, names in TESTED.items():
        assert set(examples(doc)) == names, f"docs/{doc}: untested or missing examples"


def seeded(vendor: str) -> tuple[SeededEmulator, dict[str, object]]:
    emulator = BUILDERS[vendor](port=1, size=7)  # reached through its transport, not a socket
    settings: dict[str, object] = dict(emulator.settings)
    if vendor == "flatchr":  # its CV route allows 1 request/s; the emulator can go faster
        emulator.emulator.cv_min_interval = 0.0  # type: ignore[attr-defined]
        settings["cv_min_interval"] = 0.0
    return emulator, settings


def files_under(directory: Path) -> list[Path]:
    return sorted(p for p in directory.rglob("*") if p.is_file())


async def candidates_with_files(vendor: str, settings: dict[str, object], transport) -> int:
    connector = default_registry().get(vendor)
    count = 0
    async with connector(connector.settings_model(**settings), transport=transport) as c:
        async for page in c.iter_candidates():
            count += sum(1 for r in page.records if r.attachments)
    return count


@pytest.mark.parametrize("vendor", ["flatchr", "welcomekit", "viasto"])
async def test_download_first_files_runs_against_the_emulator(vendor: str, tmp_path: Path) -> None:
    emulator, settings = seeded(vendor)
    transport = EmulatorTransport(emulator.app)
    expected = await candidates_with_files(vendor, settings, transport)
    run = example("sdk.md", "download-first-files")["download_first_files"]
    saved = await run(
        vendor, settings, tmp_path / "files", transport=transport, retry=RetryPolicy(max_attempts=1)
    )
    assert 0 < len(saved) == expected
    assert sorted(saved) == files_under(tmp_path)
    assert all(path.stat().st_size > 0 for path in saved)


async def test_a_hostile_file_name_stays_in_the_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    emulator, settings = seeded("flatchr")
    connector = default_registry().get("flatchr")
    original = connector.download_attachment

    @asynccontextmanager
    async def hostile(self, remote_id: str) -> AsyncIterator[FileDownload]:
        async with original(self, remote_id) as download:
            yield dataclasses.replace(download, file_name="../../escaped\x00.pdf")

    monkeypatch.setattr(connector, "download_attachment", hostile)
    into = tmp_path / "deep" / "files"
    run = example("sdk.md", "download-first-files")["download_first_files"]
    saved = await run("flatchr", settings, into, transport=EmulatorTransport(emulator.app))
    assert saved and all(path.parent == into for path in saved)
    assert files_under(tmp_path) == sorted(saved)
    assert all(path.name.endswith("-escaped.pdf") for path in saved)
