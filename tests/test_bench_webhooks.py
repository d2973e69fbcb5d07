"""The outbound-webhooks bench (``bench/webhooks.py``) at a tiny size: it runs end to end (a real
receiver process, the Flatchr emulator process, real HTTP) and reports no failure. Nothing
here is timed; the subprocess timeout only keeps a hung run from hanging CI."""

import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LAST_LINE = re.compile(
    r"delivery_events_per_s=(\d+) delivery_ratio_vs_bare=([\d.]+) "
    r"outbox_sync_cost_pct=(-?[\d.]+) failures=(\d+)"
)
pytestmark = pytest.mark.e2e


def test_the_webhooks_bench_runs_and_reports_no_failure() -> None:
    try:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
    except OSError as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"cannot listen on a loopback port ({exc})")
        pytest.skip(f"cannot listen on a loopback port ({exc}); the bench runs real servers")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.webhooks",
            "--events",
            "50",
            "--records",
            "100",
            "--repeats",
            "1",
        ],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    lines = done.stdout.strip().splitlines()
    match = LAST_LINE.fullmatch(lines[-1].strip()) if lines else None
    assert match, f"no figures line:\n{done.stdout[-3000:]}"
    assert int(match.group(4)) == 0, done.stdout[-3000:]
    assert "verified 50/50" in done.stdout, done.stdout[-3000:]
