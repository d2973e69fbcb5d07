"""Connector discovery through the entry-point group, lazily and checked."""

import sys
import textwrap
from importlib.metadata import EntryPoint
from pathlib import Path

import pytest

from connectors import ENTRY_POINT_GROUP, ConnectorRegistry
from connectors.flatchr import FlatchrConnector
from connectors.sdk.registry import ConnectorLoadError, UnknownConnector


def test_builtin_flatchr_is_registered_through_its_entry_point() -> None:
    registry = ConnectorRegistry()
    assert "flatchr" in registry.names()
    assert registry.get("flatchr") is FlatchrConnector


def test_connector_from_another_distribution_appears_without_code_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "acme_connector.py").write_text(
        textwrap.dedent(
            """
            from connectors.flatchr import FlatchrConnector

            class AcmeConnector(FlatchrConnector):
                name = "acme"
                display_name = "Acme ATS"
            """
        )
    )
    dist = tmp_path / "acme_ats_connector-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: acme-ats-connector\nVersion: 1.0\n"
    )
    (dist / "entry_points.txt").write_text(
        f"[{ENTRY_POINT_GROUP}]\nacme = acme_connector:AcmeConnector\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    registry = ConnectorRegistry()
    assert "acme" in registry.names()
    assert "acme_connector" not in sys.modules, "listing names must not import connectors"
    assert registry.get("acme").display_name == "Acme ATS"


def test_invalid_entry_points_are_rejected_with_a_clear_error() -> None:
    not_a_connector = EntryPoint(name="bad", value="json:dumps", group=ENTRY_POINT_GROUP)
    wrong_name = EntryPoint(
        name="other", value="connectors.flatchr:FlatchrConnector", group=ENTRY_POINT_GROUP
    )
    broken = EntryPoint(name="gone", value="no_such_module:X", group=ENTRY_POINT_GROUP)
    registry = ConnectorRegistry([not_a_connector, wrong_name, broken])
    with pytest.raises(ConnectorLoadError, match="not a Connector"):
        registry.get("bad")
    with pytest.raises(ConnectorLoadError, match="named 'flatchr'"):
        registry.get("other")
    with pytest.raises(ConnectorLoadError, match="failed to import"):
        registry.get("gone")
    with pytest.raises(UnknownConnector):
        registry.get("nope")
