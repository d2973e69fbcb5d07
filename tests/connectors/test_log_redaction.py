"""httpx's INFO log lines carry no presigned signature, file token or credential."""

import logging

import pytest

from tests.connectors.flatchr.conftest import make_connector as flatchr_connector
from tests.connectors.flatchr.conftest import make_emulator as flatchr_emulator
from tests.connectors.viasto.conftest import TOKEN
from tests.connectors.viasto.conftest import make_connector as viasto_connector
from tests.connectors.viasto.conftest import make_emulator as viasto_emulator


async def drain(connector, remote_id: str) -> None:
    async with connector.download_attachment(remote_id) as download:
        async for _ in download.chunks:
            pass


async def test_presigned_redirects_leave_no_signature_in_logs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="httpx")
    emulator = flatchr_emulator(cv_mode="redirect")
    async with flatchr_connector(emulator) as connector:
        records = [r async for page in connector.iter_candidates() for r in page.records]
        record = next(r for r in records if r.attachments)
        await drain(connector, record.attachments[0].remote_id or "")
    assert "_storage" in caplog.text  # the request was logged...
    assert "X-Amz-Signature" not in caplog.text  # ...without its signature


async def test_viasto_file_tokens_are_masked_in_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="httpx")
    emulator = viasto_emulator()
    async with viasto_connector(emulator) as connector:
        records = [r async for page in connector.iter_candidates() for r in page.records]
        record = next(r for r in records if r.attachments)
        payload = emulator.render(
            4,
            emulator.companies[4].candidates[10][int(record.candidate.remote_id.split("/")[1])],
            TOKEN,
        )  # type: ignore[union-attr]
        token = payload["cv"].rstrip("/").rsplit("/", 1)[-1]
        await drain(connector, record.attachments[0].remote_id or "")
    assert "/cv/***/" in caplog.text
    assert token not in caplog.text
    assert TOKEN not in caplog.text
