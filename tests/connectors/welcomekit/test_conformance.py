"""The SDK conformance kit against the Welcome Kit emulator."""

import httpx

from connectors.sdk.conformance import ConformanceHarness, conformance_suite
from tests.connectors.welcomekit.conftest import API_KEY, make_connector, make_emulator


def welcomekit_harness() -> ConformanceHarness:
    emulator = make_emulator(size=45)
    return ConformanceHarness(
        make_connector=lambda: make_connector(emulator, timeout=httpx.Timeout(0.5)),
        faults=emulator.faults,
        expected_count=45,
        page_size=20,
        secrets=[API_KEY],
    )


TestWelcomeKitConformance = conformance_suite(welcomekit_harness)
