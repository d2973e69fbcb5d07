"""The local demo: emulators, the service, a tenant and one connection per vendor, filled.

Everything runs in this one process on loopback ports; nothing outside is needed. The seeded
emulators come from :mod:`unified_ats.demo.emulators`, which ``unified-ats emulator`` uses too.
"""

import asyncio
import base64
import contextlib
import importlib
import json
import shlex
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from unified_ats.demo import emulators
from unified_ats.demo.emulators import (
    DEMO_FLATCHR_COMPANY,
    DEMO_FLATCHR_KEY,
    DEMO_VIASTO_COMPANY,
    DEMO_VIASTO_PASSWORD,
    DEMO_VIASTO_USER,
    DEMO_WK_KEY,
    DEMO_WK_ORG,
    free_port,
    port_is_free,
    start_server,
)

__all__ = [
    "DEMO_FLATCHR_COMPANY",
    "DEMO_FLATCHR_KEY",
    "DEMO_VIASTO_COMPANY",
    "DEMO_VIASTO_PASSWORD",
    "DEMO_VIASTO_USER",
    "DEMO_WK_KEY",
    "DEMO_WK_ORG",
    "DemoVendor",
    "announce_demo",
    "curl",
    "first_ids",
    "free_port",
    "port_is_free",
    "run_demo",
    "start_server",
]


LAZY = {
    "create_app": "unified_ats.api.app",
    "Services": "unified_ats.services",
    "Settings": "unified_ats.settings",
    "FlatchrEmulator": "connectors.flatchr.emulator",
    "WelcomeKitEmulator": "connectors.welcomekit.emulator",
    "ViastoEmulator": "connectors.viasto.emulator",
}


def __getattr__(name: str) -> Any:
    # The service stack loads on first use: `unified-ats emulator` imports this package for the
    # seeded emulators and should not wait for FastAPI and SQLAlchemy. The names this module
    # used to import at the top stay importable from it.
    if name in LAZY:
        return getattr(importlib.import_module(LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@dataclass
class DemoVendor:
    connector: str
    base_url: str
    settings: dict[str, Any]


def curl(url: str, headers: dict[str, str], *extra: str) -> str:
    parts = ["curl", "-sS", *extra]
    for name, value in headers.items():
        parts += ["-H", f"{name}: {value}"]
    parts.append(url)
    return " ".join(shlex.quote(p) for p in parts)


DEMO_CV = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def create_body(connector: str, job_id: str) -> str:
    """A CreateCandidate body this connector takes (docs/writes.md)."""
    data = {
        "first_name": "Zoé",
        "last_name": "Ngô",
        "email_addresses": [f"zoe.ngo+{connector}@example.org"],
        "job_id": job_id,
        "attachments": [
            {
                "file_name": "zoe-ngo-cv.pdf",
                "attachment_type": "RESUME",
                "content_type": "application/pdf",
                "data": base64.b64encode(DEMO_CV).decode(),
            }
        ],
    }
    return json.dumps({"data": data}, ensure_ascii=False, separators=(",", ":"))


async def run_demo(
    *,
    port: int = 8000,
    size: int = 200,
    data_dir: Path = Path(".unified-ats-demo"),
    announce: Callable[[str], None] = print,
    machine_readable: bool = False,
    stop: asyncio.Event | None = None,
) -> None:
    from unified_ats.api.app import create_app
    from unified_ats.services import Services
    from unified_ats.settings import Settings

    shutil.rmtree(data_dir, ignore_errors=True)  # a fresh, reproducible demo every time
    if not port_is_free(port):
        port = free_port()
    seeded = [build(port=free_port(), size=size) for build in emulators.BUILDERS.values()]
    for strict in seeded:
        # The demo's vendors page as strictly as real servers may (a capped page size, relative
        # next links): the connectors must get every record anyway, and the demo shows they do.
        strict.emulator.faults.page_size_cap = 20
        strict.emulator.faults.relative_next = True
    servers = [await start_server(s.app, s.port) for s in seeded]
    vendors = [DemoVendor(s.vendor, s.settings["base_url"], s.settings) for s in seeded]
    settings = Settings(
        data_dir=data_dir,
        allow_base_url_override=True,
        public_base_url=f"http://127.0.0.1:{port}",
        # Outbound webhooks to a receiver on this machine (`unified-ats webhooks listen`).
        webhook_allowed_targets="127.0.0.1/32,::1/128,localhost",
    )
    services = await Services.start(settings)
    services.start_delivery()
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
            emulated = {s.vendor: {"base_url": s.base_url, "settings": s.settings} for s in seeded}
            announce_demo(
                announce,
                base,
                api_key,
                tokens,
                await first_ids(client, api_key, tokens),
                machine_readable,
                emulated,
                link_url=await demo_link(client, api_key, base),
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
        jobs = (
            await client.get(
                "/api/ats/v1/jobs", params={"page_size": 200, "status": "OPEN"}, headers=headers
            )
        ).json()["items"]
        ids[connector] = {
            "candidate": with_cv["id"],
            "attachment": with_cv["attachments"][0] if with_cv["attachments"] else "",
            "application": (with_cv.get("applications") or [""])[0],
            "job": jobs[0]["id"] if jobs else "",
            "count": str(len(items)),
        }
    return ids


LINK_CONNECTOR = "welcomekit"
"""The connector of the demo's link page (its form is the shortest to fill in)."""


async def demo_link(client: httpx.AsyncClient, api_key: str, base: str) -> str:
    """A hosted link page URL for the demo tenant, its redirect (this server) allow-listed."""
    headers = {"Authorization": f"Bearer {api_key}"}
    allowed = await client.put(
        "/api/ats/v1/link-settings",
        json={"allowed_redirect_urls": [f"{base}/*"]},
        headers=headers,
    )
    allowed.raise_for_status()
    created = await client.post(
        "/api/ats/v1/link-tokens",
        json={
            "end_user_origin_id": "demo-end-user",
            "org_name": "Demo Corp",
            "connector": LINK_CONNECTOR,
            "redirect_url": f"{base}/health",
            "state": "demo",
            "expires_in": 7 * 24 * 3600,
        },
        headers=headers,
    )
    created.raise_for_status()
    url: str = created.json()["url"]
    return url


def link_lines(
    base: str, api_key: str, link_url: str, emulated: dict[str, dict[str, Any]]
) -> list[str]:
    from unified_ats.linking import label_of

    vendor = emulated.get(LINK_CONNECTOR, {})
    settings = vendor.get("settings", {})
    typed = ", ".join(f"{label_of(k)} {v}" for k, v in settings.items() if k != "base_url")
    return [
        "# the hosted link page: connect an account as your end user would (single use, 7 days):",
        f"#   open {link_url}",
        f"#   type {typed}; under Advanced settings, Base URL {settings.get('base_url', '')}",
        f"#   you land on {base}/health?public_token=...&state=demo; exchange it, once:",
        curl(
            f"{base}/api/ats/v1/link-tokens/exchange",
            {"Authorization": f"Bearer {api_key}", "Content-Type": "application/json"},
            "-X",
            "POST",
            "--data",
            '{"public_token": "PASTE_IT_HERE"}',
        ),
        "",
    ]


def announce_demo(
    announce: Callable[[str], None],
    base: str,
    api_key: str,
    tokens: dict[str, str],
    ids: dict[str, dict[str, str]],
    machine_readable: bool,
    emulated: dict[str, dict[str, Any]] | None = None,
    *,
    link_url: str | None = None,
) -> None:
    """``emulated``: vendor -> the emulator's ``base_url`` and the connection ``settings``;
    ``link_url``: a hosted link page for the demo tenant."""
    emulated = emulated or {}
    if machine_readable:
        announce(
            json.dumps(
                {
                    "base_url": base,
                    "api_key": api_key,
                    "tokens": tokens,
                    "ids": ids,
                    "emulators": emulated,
                    "link_url": link_url,
                }
            )
        )
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
            *(
                [
                    "#   the vendor emulator behind it (its control API: docs/emulators.md):",
                    curl(f"{emulated[connector]['base_url']}/_emulator/state", {}),
                ]
                if connector in emulated
                else []
            ),
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
        if first.get("job"):
            lines += [
                "#   a job, then its interview stages:",
                curl(f"{base}/api/ats/v1/jobs/{first['job']}", headers),
                curl(f"{base}/api/ats/v1/job-interview-stages?job={first['job']}", headers),
            ]
        if first.get("application"):
            lines += [
                "#   the candidate's applications (which job, at which stage):",
                curl(f"{base}/api/ats/v1/applications?candidate={first['candidate']}", headers),
                "#   the same, with candidate, job and stage embedded (expand):",
                curl(
                    f"{base}/api/ats/v1/applications/{first['application']}"
                    "?expand=candidate,job,current_stage",
                    headers,
                ),
            ]
        if first.get("job"):
            write_headers = {
                **headers,
                "Content-Type": "application/json",
                "Idempotency-Key": f"demo-{connector}-1",
            }
            lines += [
                "#   what creating a candidate takes on this connection, then create one with a",
                "#   CV (the same Idempotency-Key again replays the answer, no second candidate):",
                curl(f"{base}/api/ats/v1/candidates/meta/post", headers),
                curl(
                    f"{base}/api/ats/v1/candidates",
                    write_headers,
                    "-X",
                    "POST",
                    "--data",
                    create_body(connector, first["job"]),
                ),
            ]
        lines += [
            "#   its sync status (state, counts per model, quarantine), then a full sync:",
            curl(f"{base}/api/ats/v1/sync-status", headers),
            curl(f"{base}/api/ats/v1/sync-status?full=true", headers, "-X", "POST"),
            "",
        ]
    tenant = {"Authorization": f"Bearer {api_key}"}
    lines += [
        "# your connections:",
        curl(f"{base}/api/ats/v1/connections", tenant),
        "",
        "# see events arrive (signed, verified, printed) in another terminal: it subscribes",
        "# itself to every event, then changes at the vendor show up as candidate.updated...",
        f"unified-ats webhooks listen --port 8765 --api-url {base} --api-key {api_key}",
        "# ...or subscribe your own receiver (the answer holds its whsec_ secret, once):",
        curl(
            f"{base}/api/v1/webhooks",
            {**tenant, "Content-Type": "application/json"},
            "-X",
            "POST",
            "-d",
            json.dumps({"url": "http://127.0.0.1:8765/", "events": ["*"]}),
        ),
        "",
    ]
    if link_url:
        lines += link_lines(base, api_key, link_url, emulated)
    for line in lines:
        announce(line)
