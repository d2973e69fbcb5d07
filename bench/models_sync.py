"""A full sync with jobs, stages and applications against the candidates-only sync it replaced,
from the same emulator, in one run.

    uv run python -m bench.models_sync [size] [--repeat N] [--baseline-ref REF] [--vendor V]

The baseline is the code at ``REF`` (default: the last commit before jobs and applications),
checked out in a temporary git worktree; both sides run the same full sync into a fresh SQLite
store (``CHILD``, which uses only APIs both versions have) in their own processes, alternately,
against one emulator process serving the current vendor data. Records/s counts candidates: the new side
also writes their applications and every job and stage. Target: >= 0.8x the baseline.
"""

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.common import report
from bench.sync import emulator_process

ROOT = Path(__file__).resolve().parents[1]
BASELINE_REF = "ec3f6f7"
"""The last commit before jobs, stages and applications (candidates and attachments only)."""


CHILD = """
import asyncio, json, sys
from pathlib import Path

from bench.emulator_server import settings_for
from unified_ats.onboarding import connect
from unified_ats.services import Services
from unified_ats.settings import Settings


async def main(vendor, base_url, data_dir):
    services = await Services.start(Settings(data_dir=Path(data_dir), allow_base_url_override=True))
    try:
        tenant, _ = await services.accounts.create_tenant("bench")
        raw = settings_for(vendor, base_url)
        connection, _, _ = await connect(services, tenant, vendor, raw, sync_now=False)
        report = await services.sync(connection.id, full=True)
    finally:
        await services.aclose()
    print(json.dumps({"seen": report.seen, "sync_rps": report.seen / report.duration_seconds}))


asyncio.run(main(*sys.argv[1:]))
"""


def child(tree: Path, vendor: str, base_url: str) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        out = subprocess.run(
            [sys.executable, "-c", CHILD, vendor, base_url, tmp],
            cwd=tree,
            env={"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin"},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    result: dict[str, float] = json.loads(out.strip().splitlines()[-1])
    return result


def main(size: int, repeat: int, baseline_ref: str, vendors: list[str]) -> None:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        baseline = Path(tmp) / "baseline"
        subprocess.run(
            ["git", "worktree", "add", "--detach", "-q", str(baseline), baseline_ref],
            cwd=ROOT,
            check=True,
        )
        try:
            for vendor in vendors:
                with emulator_process(vendor, size) as base_url:
                    runs: dict[str, list[float]] = {"baseline": [], "current": []}
                    for _ in range(repeat):
                        runs["baseline"].append(child(baseline, vendor, base_url)["sync_rps"])
                        runs["current"].append(child(ROOT, vendor, base_url)["sync_rps"])
                old, new = statistics.median(runs["baseline"]), statistics.median(runs["current"])
                rows.append(
                    (
                        vendor,
                        f"candidates only {old:7,.0f} rec/s | with jobs, stages, applications "
                        f"{new:7,.0f} rec/s | ratio {new / old:.2f}x (target >= 0.8x; median of "
                        f"{repeat})",
                    )
                )
        finally:
            subprocess.run(
                ["git", "worktree", "remove", "--force", str(baseline)], cwd=ROOT, check=False
            )
    report(f"Full sync of {size:,} candidates: jobs and applications vs {baseline_ref}", rows)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("size", type=int, nargs="?", default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--baseline-ref", default=BASELINE_REF)
    parser.add_argument("--vendor", action="append", choices=["flatchr", "welcomekit"])
    args = parser.parse_args()
    main(args.size, args.repeat, args.baseline_ref, args.vendor or ["flatchr", "welcomekit"])
