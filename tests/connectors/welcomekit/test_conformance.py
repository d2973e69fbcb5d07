"""The SDK conformance kit against the Welcome Kit emulator."""

import httpx

from connectors.sdk.conformance import ConformanceHarness, conformance_suite
from tests.connectors.welcomekit.conftest import API_KEY, ORG, make_connector, make_emulator


def welcomekit_harness() -> ConformanceHarness:
    emulator = make_emulator(size=45)
    jobs = len(emulator.organizations[ORG].jobs)
    hosted: dict[str, tuple[bytes, str]] = {}

    def host_file(content: bytes, content_type: str) -> str:
        url = f"https://files.example.test/{len(hosted)}/cv.pdf"
        hosted[url] = (content, content_type)
        return url

    async def fetch(url: str) -> httpx.Response:
        if url not in hosted:
            return httpx.Response(404)
        content, content_type = hosted[url]
        return httpx.Response(200, content=content, headers={"Content-Type": content_type})

    emulator.fetch = fetch
    return ConformanceHarness(
        make_connector=lambda: make_connector(emulator, timeout=httpx.Timeout(0.5)),
        faults=emulator.faults,
        expected_count=45,
        page_size=20,
        secrets=[API_KEY],
        expected_jobs=jobs,
        missing_job_remote_id="WTTJ_Missing1",
        host_file=host_file,
    )


TestWelcomeKitConformance = conformance_suite(welcomekit_harness)
