"""Emulators serve many accounts per process (``unified-ats emulator --accounts N``), so that
thousands of connections can be emulated on one machine (bench/scale_out.py)."""

import pytest
from typer.testing import CliRunner

from connectors import default_registry
from connectors.sdk.emulation import EmulatorTransport
from unified_ats.cli import app
from unified_ats.demo.emulators import BUILDERS, account_settings


@pytest.mark.parametrize("vendor", sorted(BUILDERS))
async def test_each_account_opens_with_its_own_credentials_and_sees_only_its_data(
    vendor: str,
) -> None:
    seeded = BUILDERS[vendor](port=8125, size=3, accounts=5)
    assert seeded.announcement()["accounts"] == 5
    assert seeded.settings == account_settings(vendor, seeded.base_url, 0)
    connector_class = default_registry().get(vendor)
    transport = EmulatorTransport(seeded.app)
    seen: list[set[str]] = []
    for index in (0, 4):
        settings = connector_class.settings_model(
            **account_settings(vendor, seeded.base_url, index)
        )
        async with connector_class(settings, transport=transport) as connector:  # type: ignore[call-arg]
            await connector.verify_credentials()
            ids = {
                r.candidate.remote_id or ""
                async for page in connector.iter_candidates()
                for r in page.records
            }
        assert len(ids) == 3
        seen.append(ids)
    state = seeded.emulator.state()["accounts"]
    assert len(state) == 5
    # Another account's key does not open this one.
    wrong = {**account_settings(vendor, seeded.base_url, 1)}
    if vendor == "flatchr":
        wrong["company_id"] = account_settings(vendor, seeded.base_url, 2)["company_id"]
        settings = connector_class.settings_model(**wrong)
        async with connector_class(settings, transport=transport) as connector:  # type: ignore[call-arg]
            with pytest.raises(Exception, match=r"401|403|credential|denied|auth"):
                await connector.verify_credentials()


def test_the_cli_takes_an_accounts_option() -> None:
    result = CliRunner().invoke(app, ["emulator", "--help"])
    assert "--accounts" in result.output
