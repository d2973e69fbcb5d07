"""The local demo: emulators, the service, a tenant and one connection per vendor, filled.

Everything runs in this one process on loopback ports; nothing outside is needed.
"""

import asyncio
import contextlib
import json
import shlex
import shutil
import socket
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from connectors.flatchr.emulator import FlatchrEmulator
from connectors.viasto.emulator import ViastoEmulator
from connectors.welcomekit.emulator import WelcomeKitEmulator
from unified_ats.api.app import create_app
from unified_ats.services import Services
from unified_ats.settings import Settings

DEMO_FLATCHR_COMPANY = "Wy3EOp2NP3p1KMq8"
DEMO_FLATCHR_KEY = "flt_demo_0b1c2d3e4f5a6b7c8d9e"  # the emulator's key, not a real one
DEMO_WK_ORG = "Pg4eV6k"
DEMO_WK_KEY = "wk_demo_6f5e4d3c2b1a0f9e8d7c"  # the emulator's key, not a real one
DEMO_VIASTO_COMPANY = 4
DEMO_VIASTO_USER = "recruiter@acme.example"
DEMO_VIASTO_PASSWORD = "demo-password-not-real"  # noqa: S105 - the emulator's demo login


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


@dataclass
class DemoVendor:
    connector: str
    base_url: str
    settings: dict[str, Any]


async def start_server(app: Any, port: int) -> tuple[uvicorn.Server, asyncio.Task[None]]:
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.02)
    return server, task


def curl(url: str, headers: dict[str, str], *extra: str) -> str:
    parts = ["curl", "-sS", *extra]
    for name, value in headers.items():
        parts += ["-H", f"{name}: {value}"]
    parts.append(url)
    return " ".join(shlex.quote(p) for p in parts)


async def run_demo(
    *,
    port: int = 8000,
    size: int = 200,
    data_dir: Path = Path(".unified-ats-demo"),
    announce: Callable[[str], None] = print,
    machine_readable: bool = False,
    stop: asyncio.Event | None = None,
) -> None:
    shutil.rmtree(data_dir, ignore_errors=True)  # a fresh, reproducible demo every time
    if not port_is_free(port):
        port = free_port()
    flatchr = FlatchrEmulator()
    flatchr.add_company(
        company_id=DEMO_FLATCHR_COMPANY,
        api_key=DEMO_FLATCHR_KEY,
        name="Hôpital de la Timone",
        size=size,
    )
    flatchr_port = free_port()
    welcomekit_port = free_port()
    welcomekit = WelcomeKitEmulator(cdn_base=f"http://127.0.0.1:{welcomekit_port}")
    welcomekit.add_organization(
        reference=DEMO_WK_ORG, name="Welcome to the Jungle", api_key=DEMO_WK_KEY, size=size
    )
    viasto_port = free_port()
    viasto = ViastoEmulator(host=f"http://127.0.0.1:{viasto_port}")
    viasto.add_company(
        company_id=DEMO_VIASTO_COMPANY,
        name="ACME GmbH",
        username=DEMO_VIASTO_USER,
        password=DEMO_VIASTO_PASSWORD,
        identifier="acme-inc",
        projects=4,
        candidates_per_project=max(1, size // 4),
    )
    servers = [
        await start_server(flatchr.app, flatchr_port),
        await start_server(welcomekit.app, welcomekit_port),
        await start_server(viasto.app, viasto_port),
    ]
    vendors = [
        DemoVendor(
            "flatchr",
            f"http://127.0.0.1:{flatchr_port}",
            {"api_key": DEMO_FLATCHR_KEY, "company_id": DEMO_FLATCHR_COMPANY},
        ),
        DemoVendor(
            "welcomekit",
            f"http://127.0.0.1:{welcomekit_port}/api/v1/external",
            {"api_key": DEMO_WK_KEY, "organization_reference": DEMO_WK_ORG},
        ),
        DemoVendor(
            "viasto",
            f"http://127.0.0.1:{viasto_port}/api/v3",
            {
                "company_id": str(DEMO_VIASTO_COMPANY),
                "username": DEMO_VIASTO_USER,
                "password": DEMO_VIASTO_PASSWORD,
                "company_identifier": "acme-inc",
            },
        ),
    ]
    settings = Settings(
        data_dir=data_dir, allow_base_url_override=True, public_base_url=f"http://127.0.0.1:{port}"
    )
    services = await Services.start(settings)
    try:
        servers.append(await start_server(create_app(services=services), port))
        base = f"http://127.0.0.1:{port}"
        _, api_key = await services.accounts.create_tenant("demo")
        tokens: dict[str, str] = {}
        async with httpx.AsyncClient(base_url=base, timeout=120) as client:
            for vendor in vendors:
                response = await client.post(
                    "/api/ats/v1/connections",
                    json={
                        "connector": vendor.connector,
                        "settings": {**vendor.settings, "base_url": vendor.base_url},
                    },
                    headers={"Authorization": f"Bearer {api_key}"},
                )
                response.raise_for_status()
                tokens[vendor.connector] = response.json()["connector_token"]
            await asyncio.gather(*services.background)  # the initial fill
            announce_demo(
                announce,
                base,
                api_key,
                tokens,
                await first_ids(client, api_key, tokens),
                machine_readable,
            )
        await (stop or asyncio.Event()).wait()
    finally:
        for server, _ in reversed(servers):
            server.should_exit = True
        for _, task in servers:
            with contextlib.suppress(Exception):
                await task
        await services.aclose()


async def first_ids(
    client: httpx.AsyncClient, api_key: str, tokens: dict[str, str]
) -> dict[str, dict[str, str]]:
    ids: dict[str, dict[str, str]] = {}
    for connector, token in tokens.items():
        headers = {"Authorization": f"Bearer {api_key}", "x-connector-token": token}
        items = (
            await client.get("/api/ats/v1/candidates", params={"page_size": 200}, headers=headers)
        ).json()["items"]
        with_cv = next((c for c in items if c["attachments"]), items[0])
        ids[connector] = {
            "candidate": with_cv["id"],
            "attachment": with_cv["attachments"][0] if with_cv["attachments"] else "",
            "count": str(len(items)),
        }
    return ids


def announce_demo(
    announce: Callable[[str], None],
    base: str,
    api_key: str,
    tokens: dict[str, str],
    ids: dict[str, dict[str, str]],
    machine_readable: bool,
) -> None:
    if machine_readable:
        announce(json.dumps({"base_url": base, "api_key": api_key, "tokens": tokens, "ids": ids}))
    lines = [
        "",
        f"unified-ats demo is running on {base}  (docs: {base}/docs, stop: Ctrl-C)",
        f"API key (tenant 'demo'): {api_key}",
        "",
    ]
    for connector, token in tokens.items():
        headers = {"Authorization": f"Bearer {api_key}", "x-connector-token": token}
        first = ids[connector]
        lines += [
            f"# {connector}: connector token {token}",
            f"#   candidates (first page of {first['count']}+):",
            curl(f"{base}/api/ats/v1/candidates?page_size=5", headers),
            "#   one candidate, with raw data and custom fields:",
            curl(
                f"{base}/api/ats/v1/candidates/{first['candidate']}?include_raw_data=true&include_custom_fields=true",
                headers,
            ),
            "#   force a refresh from the vendor:",
            curl(
                f"{base}/api/ats/v1/candidates/{first['candidate']}",
                {**headers, "Cache-Control": "no-cache"},
            ),
        ]
        if first["attachment"]:
            lines += [
                "#   the candidate's CV metadata, then the file itself:",
                curl(f"{base}/api/ats/v1/attachments?candidate={first['candidate']}", headers),
                curl(
                    f"{base}/api/ats/v1/attachments/{first['attachment']}/download", headers, "-OJ"
                ),
            ]
        lines.append("")
    lines += [
        "# your connections:",
        curl(f"{base}/api/ats/v1/connections", {"Authorization": f"Bearer {api_key}"}),
        "",
    ]
    for line in lines:
        announce(line)
