"""No secret in any log line at any level, over real sockets (so httpcore logs its DEBUG traces).

Root logging at DEBUG captures every logger while the three vendors' connections are created,
fully synced, read, sent a webhook, and each serves a CV download. Then every captured line
(message and traceback) is scanned for every secret the run used.
"""

import asyncio
import contextlib
import logging
import re
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from connectors.flatchr.emulator import FlatchrEmulator
from connectors.sdk.http import RetryPolicy
from connectors.viasto.emulator import ViastoEmulator
from connectors.welcomekit.emulator import WelcomeKitEmulator
from unified_ats.api.app import create_app
from unified_ats.services import Services
from unified_ats.settings import Settings

API = "/api/ats/v1"
FLATCHR_COMPANY = "Wy3EOp2NP3p1KMq8"
FLATCHR_KEY = "flt_log_scan_key_5d4c3b2a19"
WK_ORG = "Pg4eV6k"
WK_KEY = "wk_log_scan_key_0a9b8c7d6e"
VIASTO_USER = "recruiter@acme.example"
VIASTO_PASSWORD = "viasto-log-scan-pw-77"


class Capture(logging.Handler):
    """Keeps every record's fully formatted text (message, traceback, stack)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
        self.lines: list[tuple[str, int, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append((record.name, record.levelno, self.format(record)))

    def text(self) -> str:
        return "\n".join(line for _, _, line in self.lines)


def bound_socket() -> socket.socket:
    """A loopback socket already bound (no window for another process to take its port)."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


def port_of(sock: socket.socket) -> int:
    port: int = sock.getsockname()[1]
    return port


@dataclass
class Servers:
    servers: list[tuple[uvicorn.Server, asyncio.Task[None]]] = field(default_factory=list)

    async def start(self, app: Any, sock: socket.socket) -> str:
        # log_config=None: uvicorn leaves logging alone, so its loggers reach the root's handler.
        config = uvicorn.Config(app, log_config=None, lifespan="on")
        server = uvicorn.Server(config)
        task = asyncio.create_task(server.serve(sockets=[sock]))
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.01)
        self.servers.append((server, task))
        return f"http://127.0.0.1:{port_of(sock)}"

    async def stop(self) -> None:
        for server, _ in reversed(self.servers):
            server.should_exit = True
        for _, task in self.servers:
            with contextlib.suppress(Exception):
                await task


@pytest.fixture
def capture() -> Iterator[Capture]:
    handler = Capture()
    root = logging.getLogger()
    level = root.level
    # Earlier tests may have run uvicorn with its own logging config (uvicorn.access stops
    # propagating, levels raised): every logger reaches the root's handler for this test.
    loggers = [
        logger
        for logger in logging.root.manager.loggerDict.values()
        if isinstance(logger, logging.Logger)
    ]
    saved = [(logger, logger.propagate, logger.level, logger.disabled) for logger in loggers]
    for logger in loggers:
        logger.propagate, logger.disabled = True, False
        logger.setLevel(logging.NOTSET)
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
        for logger, propagate, logger_level, disabled in saved:
            logger.propagate, logger.disabled = propagate, disabled
            logger.setLevel(logger_level)


async def test_no_secret_in_any_log_line_at_debug(
    database_url: str, tmp_path: Path, capture: Capture
) -> None:
    servers = Servers()
    flatchr_sock, wk_sock, viasto_sock, api_sock = (bound_socket() for _ in range(4))
    wk_port, viasto_port = port_of(wk_sock), port_of(viasto_sock)
    flatchr = FlatchrEmulator(cv_min_interval=0.0, cv_mode="redirect")
    flatchr.add_company(company_id=FLATCHR_COMPANY, api_key=FLATCHR_KEY, name="Timone", size=12)
    welcomekit = WelcomeKitEmulator(cdn_base=f"http://127.0.0.1:{wk_port}")
    welcomekit.add_organization(reference=WK_ORG, name="WTTJ", api_key=WK_KEY, size=10, jobs=2)
    viasto = ViastoEmulator(host=f"http://127.0.0.1:{viasto_port}")
    viasto.add_company(
        company_id=4,
        name="ACME GmbH",
        username=VIASTO_USER,
        password=VIASTO_PASSWORD,
        identifier="acme-inc",
        projects=2,
        candidates_per_project=6,
    )
    services = await Services.start(
        Settings(
            data_dir=tmp_path,
            database_url=database_url,
            allow_base_url_override=True,
            job_runner="inprocess",  # one process, on either store
        ),
        retry=RetryPolicy(max_attempts=2, base_delay=0.001),
    )
    try:
        flatchr_url = await servers.start(flatchr.app, flatchr_sock)
        wk_url = await servers.start(welcomekit.app, wk_sock)
        viasto_url = await servers.start(viasto.app, viasto_sock)
        base = await servers.start(create_app(services=services), api_sock)
        tenant, api_key = await services.accounts.create_tenant("acme")
        vendors = {
            "flatchr": {"api_key": FLATCHR_KEY, "company_id": FLATCHR_COMPANY},
            "welcomekit": {"api_key": WK_KEY, "organization_reference": WK_ORG},
            "viasto": {
                "company_id": "4",
                "username": VIASTO_USER,
                "password": VIASTO_PASSWORD,
                "company_identifier": "acme-inc",
            },
        }
        bases = {
            "flatchr": flatchr_url,
            "welcomekit": f"{wk_url}/api/v1/external",
            "viasto": f"{viasto_url}/api/v3",
        }
        created: dict[str, dict[str, Any]] = {}
        async with httpx.AsyncClient(base_url=base, timeout=60) as client:
            auth = {"Authorization": f"Bearer {api_key}"}
            for name, settings in vendors.items():
                response = await client.post(
                    f"{API}/connections",
                    json={"connector": name, "settings": {**settings, "base_url": bases[name]}},
                    headers=auth,
                )
                assert response.status_code == 201, response.text
                created[name] = response.json()
            await asyncio.gather(*services.background)
            for connection in await services.accounts.connections(tenant):
                report = await services.sync(connection.id, full=True)
                assert report.seen > 0
            for name, body in created.items():
                headers = {**auth, "x-connector-token": body["connector_token"]}
                items = (
                    await client.get(
                        f"{API}/candidates", params={"page_size": 200}, headers=headers
                    )
                ).json()["items"]
                with_cv = next(c for c in items if c["attachments"])
                fresh = await client.get(
                    f"{API}/candidates/{with_cv['id']}",
                    headers={**headers, "Cache-Control": "no-cache"},
                )
                assert fresh.status_code == 200, fresh.text
                attachments = (
                    await client.get(
                        f"{API}/attachments", params={"candidate": with_cv["id"]}, headers=headers
                    )
                ).json()["items"]
                download = await client.get(attachments[0]["file_url"], headers=headers)
                assert download.status_code == 200 and download.content, (name, download.text)
            applicant = next(iter(flatchr.companies[FLATCHR_COMPANY].applicants))
            hook = await client.post(
                created["flatchr"]["webhook_url"],
                json=flatchr.webhook_payload(FLATCHR_COMPANY, applicant),
            )
            assert hook.status_code == 200, hook.text
    finally:
        await servers.stop()
        await services.aclose()
        for sock in (flatchr_sock, wk_sock, viasto_sock, api_sock):
            sock.close()

    secrets = {
        "tenant API key": api_key,
        "Flatchr API key": FLATCHR_KEY,
        "Welcome Kit API key": WK_KEY,
        "viasto password": VIASTO_PASSWORD,
    }
    for name, body in created.items():
        secrets[f"{name} connector token"] = body["connector_token"]
        secrets[f"{name} webhook secret"] = body["webhook_url"].rsplit("/", 1)[-1]
    assert viasto.tokens, "viasto's login issued no token"
    file_token = re.compile(r"/(?:cv|photo)/([^/]+)/")
    for session in viasto.tokens:
        secrets[f"viasto token {session[:6]}"] = session
        for project in viasto.companies[4].candidates.values():
            for stored in project.values():
                rendered = viasto.render(4, stored, session)
                for url in (rendered["cv"], rendered["photo"]):
                    if url:
                        secrets[f"viasto file token in {url}"] = file_token.findall(url)[0]

    text = capture.text()
    leaks = [name for name, value in secrets.items() if value in text]
    assert not leaks, leaks
    assert "X-Amz-Signature" not in text and "X-Amz-Credential" not in text

    # The scan saw the traffic that used to leak: the presigned redirect's target (its
    # signature was in the query), viasto's file routes, the access log of the webhook route.
    assert any(
        name == "httpx" and "_storage" in line and "?" not in line
        for name, _, line in capture.lines
    )
    assert any(name == "httpx" and "/cv/***/" in line for name, _, line in capture.lines)
    assert any(
        name == "uvicorn.access" and "/webhooks/uats_wh_***" in line
        for name, _, line in capture.lines
    )
