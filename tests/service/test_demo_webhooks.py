"""The newcomer's path from the demo: the printed ``webhooks listen`` command subscribes a
real receiver process, which prints verified events when a sync runs."""

import asyncio
import os
import shlex
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import httpx
import pytest

from unified_ats.demo import free_port, run_demo

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.e2e
async def test_the_demo_listen_command_prints_verified_events(tmp_path: Path) -> None:
    lines: list[str] = []
    stop = asyncio.Event()
    demo = asyncio.create_task(
        run_demo(
            port=free_port(), size=5, data_dir=tmp_path / "demo", announce=lines.append, stop=stop
        )
    )
    try:
        async with asyncio.timeout(120):
            while not any(line.startswith("unified-ats webhooks listen") for line in lines):
                assert not demo.done(), demo.exception()
                await asyncio.sleep(0.2)
        command = shlex.split(
            next(line for line in lines if line.startswith("unified-ats webhooks listen"))
        )
        port = free_port()
        command[command.index("--port") + 1] = str(port)
        listener = subprocess.Popen(  # noqa: ASYNC220 - read in a thread below
            [sys.executable, "-m", "unified_ats.cli", *command[1:]],
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        try:
            assert listener.stdout is not None
            out: list[str] = []
            while not any("listening on" in line for line in out):
                out.append(await asyncio.to_thread(listener.stdout.readline))
                assert out[-1] or listener.poll() is None, out
            api = command[command.index("--api-url") + 1]
            key = command[command.index("--api-key") + 1]
            token = next(line for line in lines if "x-connector-token" in line).split(
                "x-connector-token: "
            )[1]
            token = token.split("'")[0].split()[0]
            async with httpx.AsyncClient(base_url=api) as client:
                answer = await client.post(
                    "/api/ats/v1/sync-status?full=true",
                    headers={"Authorization": f"Bearer {key}", "x-connector-token": token},
                )
                assert answer.status_code == 202, answer.text

            def seen(kind: str) -> list[str]:
                return [line for line in out if f" {kind} " in line]

            # Events are not ordered on the wire (docs/webhooks.md): wait for both, and
            # order them by their own timestamps, which the receiver prints first.
            async with asyncio.timeout(60):
                while not (seen("sync.started") and seen("sync.succeeded")):
                    out.append(await asyncio.to_thread(listener.stdout.readline))
            events = [line for line in out if "sync." in line]
            assert all(line.strip().endswith("[verified]") for line in events)
            started, succeeded = (
                datetime.fromisoformat(seen(kind)[0].split()[0])
                for kind in ("sync.started", "sync.succeeded")
            )
            assert started <= succeeded
        finally:
            listener.terminate()
            rest = (await asyncio.to_thread(listener.communicate, timeout=30))[0]
        assert "removed" in rest  # it unsubscribed itself on exit
    finally:
        stop.set()
        await demo
