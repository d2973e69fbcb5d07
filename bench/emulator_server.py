"""Serves a vendor emulator for benchmarks: ``BENCH_VENDOR`` with ``BENCH_SIZE`` records."""

import os

from connectors.flatchr.emulator import FlatchrEmulator
from connectors.viasto.emulator import ViastoEmulator
from connectors.welcomekit.emulator import WelcomeKitEmulator

COMPANY, KEY = "BENCHCOMPANY0000", "flt_bench_key"
WK_ORG, WK_KEY = "BENCHORG", "wk_bench_key"
VIASTO_TOKEN = "f" * 40
VIASTO_PROJECTS = 4


def settings_for(vendor: str, base_url: str) -> dict[str, str]:
    if vendor == "flatchr":
        return {"api_key": KEY, "company_id": COMPANY, "base_url": base_url}
    if vendor == "viasto":
        return {
            "token": VIASTO_TOKEN,
            "company_id": "4",
            "company_name": "ACME GmbH",
            "base_url": f"{base_url}/api/v3",
        }
    return {
        "api_key": WK_KEY,
        "organization_reference": WK_ORG,
        "base_url": f"{base_url}/api/v1/external",
    }


def create() -> object:
    size = int(os.environ["BENCH_SIZE"])
    vendor = os.environ.get("BENCH_VENDOR", "flatchr")
    if vendor == "viasto":
        viasto = ViastoEmulator()
        viasto.add_company(
            company_id=4,
            name="ACME GmbH",
            token=VIASTO_TOKEN,
            projects=VIASTO_PROJECTS,
            candidates_per_project=max(1, size // VIASTO_PROJECTS),
        )
        return viasto.app
    if vendor == "flatchr":
        flatchr = FlatchrEmulator()
        flatchr.add_company(company_id=COMPANY, api_key=KEY, name="Bench SA", size=size)
        return flatchr.app
    welcomekit = WelcomeKitEmulator()
    welcomekit.add_organization(
        reference=WK_ORG, name="Bench SA", api_key=WK_KEY, size=size, jobs=max(2, size // 2000)
    )
    return welcomekit.app
