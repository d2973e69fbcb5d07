"""The SDK conformance kit against the Welcome Kit emulator."""

import httpx

from connectors.sdk.conformance import ConformanceHarness, conformance_suite
from tests.connectors.welcomekit.conftest import API_KEY, ORG, make_connector, make_emulator


def welcomekit_harness() -> ConformanceHarness:
    emulator = make_emulator(size=45)
    jobs = len(emulator.organizations[ORG].jobs)
    return ConformanceHarness(
        make_connector=lambda: make_connector(emulator, timeout=httpx.Timeout(0.5)),
        faults=emulator.faults,
        expected_count=45,
        page_size=20,
        secrets=[API_KEY],
        expected_jobs=jobs,
        missing_job_remote_id="WTTJ_Missing1",
    )


TestWelcomeKitConformance = conformance_suite(welcomekit_harness)
