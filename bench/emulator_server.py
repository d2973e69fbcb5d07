"""Serves a Flatchr emulator for benchmarks: ``BENCH_SIZE`` applicants, no latency."""

import os

from connectors.flatchr.emulator import FlatchrEmulator

COMPANY, KEY = "BENCHCOMPANY0000", "flt_bench_key"


def create() -> object:
    emulator = FlatchrEmulator()
    emulator.add_company(
        company_id=COMPANY, api_key=KEY, name="Bench SA", size=int(os.environ["BENCH_SIZE"])
    )
    return emulator.app
