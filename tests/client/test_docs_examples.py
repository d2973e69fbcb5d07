"""Every example in docs/client.md runs as written against the local demo (vendor emulators and
the API served by uvicorn on a loopback port): what the docs show is what users get."""

import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.docs_examples import example, examples

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.e2e


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    command = ["demo", "--port", str(free_port()), "--size", "12", "--json"]
    process = subprocess.Popen(
        [sys.executable, "-m", "unified_ats.cli", *command],
        cwd=tmp_path_factory.mktemp("demo"),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert process.stdout is not None
    lines = []
    info = None
    for line in process.stdout:  # the demo prints one JSON line once it serves
        lines.append(line)
        if line.startswith("{"):
            info = json.loads(line)
            break
    try:
        if info is None:
            pytest.fail("demo did not start:\n" + "".join(lines))
        yield info
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def run(name: str, demo: dict[str, Any], monkeypatch: pytest.MonkeyPatch, cwd: Path) -> dict:
    monkeypatch.setenv("ATS_URL", demo["base_url"])
    monkeypatch.setenv("ATS_API_KEY", demo["api_key"])
    monkeypatch.setenv("ATS_CONNECTOR_TOKEN", demo["tokens"]["flatchr"])
    monkeypatch.setenv("FLATCHR_SETTINGS", json.dumps(demo["emulators"]["flatchr"]["settings"]))
    monkeypatch.chdir(cwd)
    return example("client.md", name)


def test_the_docs_have_the_examples_this_test_checks() -> None:
    assert set(examples("client.md")) == {
        "quick-start",
        "paging",
        "who-stands-where",
        "one-candidate",
        "download",
        "connections",
        "sync",
        "errors",
        "retries",
        "async",
        "write-candidate",
        "write-safely",
        "passthrough",
    }


def test_examples_run_against_the_demo(
    demo: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    count = int(demo["ids"]["flatchr"]["count"])

    quick = run("quick-start", demo, monkeypatch, tmp_path)
    assert len(quick["names"]) == count
    assert str(quick["first"].id) == demo["ids"]["flatchr"]["candidate"]

    paging = run("paging", demo, monkeypatch, tmp_path)
    assert len(paging["every"]) == count and sum(paging["sizes"]) == count

    standing = run("who-stands-where", demo, monkeypatch, tmp_path)["standing"]
    assert len(standing) == count and all(job for job, _ in standing.values())

    one = run("one-candidate", demo, monkeypatch, tmp_path)
    assert one["candidate"].raw_data and len(one["applications"]) == 1

    download = run("download", demo, monkeypatch, tmp_path)
    assert download["saved"].parent == Path("cvs")
    assert (tmp_path / download["saved"]).read_bytes() == download["content"]

    sync = run("sync", demo, monkeypatch, tmp_path)
    assert sync["accepted"].status in ("started", "queued")

    connections = run("connections", demo, monkeypatch, tmp_path)
    assert {"flatchr", "welcomekit", "viasto"} <= set(connections["offered"])

    capsys.readouterr()
    run("errors", demo, monkeypatch, tmp_path)
    printed = capsys.readouterr().out.splitlines()
    assert printed[0].startswith("404 ")
    assert printed[1] == "[['query', 'page_size']]"
    assert printed[2].startswith("401: ") and "uats_ct_revoked" not in printed[2]

    retries = run("retries", demo, monkeypatch, tmp_path)
    assert retries["size"] > 0

    per_job = run("async", demo, monkeypatch, tmp_path)["applicants_per_job"]
    assert sum(per_job.values()) == count

    # The writes come last: they add candidates.
    written = run("write-candidate", demo, monkeypatch, tmp_path)
    assert written["moved"].current_stage == written["later"].id
    assert written["stored"].id == written["created"].id
    again = run("write-candidate", demo, monkeypatch, tmp_path)  # the same key: a replay
    assert again["created"] == written["created"]

    capsys.readouterr()
    safely = run("write-safely", demo, monkeypatch, tmp_path)
    assert safely["created"].first_name == "Ada"
    printed = capsys.readouterr().out.splitlines()
    assert "(['body', 'data', 'job_id'], 'unknown_job')" in printed[0]
    assert printed[1].startswith("cannot: ") and "Flatchr" in printed[1]

    passthrough = run("passthrough", demo, monkeypatch, tmp_path)["answer"]
    assert passthrough.status == 200 and passthrough.data
