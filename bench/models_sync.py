"""A full sync with jobs, stages and applications against the candidates-only sync it replaced,
from the same emulator, in one run.

    uv run python -m bench.models_sync [size] [--repeat N] [--baseline-ref REF]

The baseline is the code at ``REF`` (default: the last commit before jobs and applications),
checked out in a temporary git worktree; both sides run ``bench.sync --child`` (enumeration,
then a full sync into a fresh SQLite store) in their own processes, alternately, against one
emulator process serving the current vendor data. Records/s counts candidates: the new side
also writes their applications and every job and stage. Target: >= 0.8x the baseline.
"""

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


def child(tree: Path, vendor: str, base_url: str) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        out = subprocess.run(
            [sys.executable, "-m", "bench.sync", "--child", vendor, base_url, tmp],
            cwd=tree,
            env={"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin"},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    result: dict[str, float] = json.loads(out.strip().splitlines()[-1])
    return result


def main(size: int, repeat: int, baseline_ref: str) -> None:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        baseline = Path(tmp) / "baseline"
        subprocess.run(
            ["git", "worktree", "add", "--detach", "-q", str(baseline), baseline_ref],
            cwd=ROOT,
            check=True,
        )
        try:
            for vendor in ("flatchr", "welcomekit"):
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
    args = sys.argv[1:]
    repeat = int(args[args.index("--repeat") + 1]) if "--repeat" in args else 3
    ref = args[args.index("--baseline-ref") + 1] if "--baseline-ref" in args else BASELINE_REF
    positional = [
        a
        for i, a in enumerate(args)
        if not a.startswith("--") and (i == 0 or not args[i - 1].startswith("--"))
    ]
    main(int(positional[0]) if positional else 10_000, repeat, ref)
