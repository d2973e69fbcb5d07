"""Shared fixtures: vendor fixture files from ../shared and emulator-backed connectors."""

import json
from pathlib import Path
from typing import Any

import pytest

VENDOR_FIXTURES = Path(__file__).resolve().parents[2] / "shared" / "vendors" / "fixtures"
LOCAL_FIXTURES = Path(__file__).parent / "fixtures"


def vendor_fixture(name: str) -> Any:
    """A vendor JSON example: from ../shared when present, else the copy kept in tests/fixtures."""
    for folder in (VENDOR_FIXTURES, LOCAL_FIXTURES / "vendors"):
        path = folder / name
        if path.exists():
            return json.loads(path.read_text(encoding="utf-8"))
    pytest.fail(f"vendor fixture {name} not found")
