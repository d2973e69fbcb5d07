"""Serves a vendor emulator for benchmarks: ``BENCH_VENDOR`` with ``BENCH_SIZE`` records."""

import os

from connectors.flatchr.emulator import FlatchrEmulator
from connectors.welcomekit.emulator import WelcomeKitEmulator

COMPANY, KEY = "BENCHCOMPANY0000", "flt_bench_key"
WK_ORG, WK_KEY = "BENCHORG", "wk_bench_key"


def settings_for(vendor: str, base_url: str) -> dict[str, str]:
    if vendor == "flatchr":
        return {"api_key": KEY, "company_id": COMPANY, "base_url": base_url}
    return {
        "api_key": WK_KEY,
        "organization_reference": WK_ORG,
        "base_url": f"{base_url}/api/v1/external",
    }


def create() -> object:
    size = int(os.environ["BENCH_SIZE"])
    if os.environ.get("BENCH_VENDOR", "flatchr") == "flatchr":
        flatchr = FlatchrEmulator()
        flatchr.add_company(company_id=COMPANY, api_key=KEY, name="Bench SA", size=size)
        return flatchr.app
    welcomekit = WelcomeKitEmulator()
    welcomekit.add_organization(
        reference=WK_ORG, name="Bench SA", api_key=WK_KEY, size=size, jobs=max(2, size // 2000)
    )
    return welcomekit.app
