"""The SDK conformance kit, run against the Flatchr emulator."""

import httpx

from connectors.flatchr.emulator.data import VACANCIES
from connectors.sdk.conformance import ConformanceHarness, conformance_suite
from tests.connectors.flatchr.conftest import API_KEY, COMPANY_ID, make_connector, make_emulator
from tests.helpers import VirtualClock


def flatchr_harness() -> ConformanceHarness:
    clock = VirtualClock()
    emulator = make_emulator(size=45, clock=clock)
    return ConformanceHarness(
        make_connector=lambda: make_connector(
            emulator, clock=clock, sleep=clock.sleep, timeout=httpx.Timeout(0.5)
        ),
        faults=emulator.faults,
        expected_count=45,
        page_size=20,
        secrets=[API_KEY],
        vendor_counts=False,  # the search answers the whole array, with no total
        expected_jobs=len(VACANCIES),  # the five seeded vacancies
        webhook_bodies=lambda remote_id: [
            emulator.webhook_payload(COMPANY_ID, remote_id, event)
            for event in ("new_applicant", "drag_applicant")
        ],
    )


TestFlatchrConformance = conformance_suite(flatchr_harness)
