"""The SDK conformance kit against the viasto emulator (with a username/password login)."""

import httpx

from connectors.sdk.conformance import ConformanceHarness, conformance_suite
from tests.connectors.viasto.conftest import PASSWORD, TOKEN, make_connector, make_emulator


def viasto_harness() -> ConformanceHarness:
    emulator = make_emulator(projects=3, per_project=12)
    return ConformanceHarness(
        make_connector=lambda: make_connector(emulator, login=True, timeout=httpx.Timeout(0.5)),
        faults=emulator.faults,
        expected_count=36,
        page_size=5,
        secrets=[PASSWORD, TOKEN, *emulator.tokens],
        missing_remote_id="10/999999",
        expected_jobs=3,
        missing_job_remote_id="999999",  # a well-formed id the vendor answers 404 for
    )


TestViastoConformance = conformance_suite(viasto_harness)
