"""Seeded vendor emulators, shared by the demo and ``unified-ats emulator``.

One builder per vendor makes an emulator holding one account of ``size`` candidates, opened by
the fixed demo credentials below, and the connection settings that work against it. The
credentials are the emulators' own: no vendor knows them, and they are documented in
docs/emulators.md so that anyone can point an integration at a local emulator.
"""

import asyncio
import contextlib
import json
import signal
import socket
from collections.abc import Callable
from dataclasses import dataclass
from types import FrameType
from typing import Any

import uvicorn
from starlette.types import ASGIApp

from connectors.flatchr.emulator import FlatchrEmulator
from connectors.viasto.emulator import ViastoEmulator
from connectors.welcomekit.emulator import WelcomeKitEmulator

DEMO_FLATCHR_COMPANY = "Wy3EOp2NP3p1KMq8"
DEMO_FLATCHR_KEY = "flt_demo_0b1c2d3e4f5a6b7c8d9e"  # the emulator's key, not a real one
DEMO_WK_ORG = "Pg4eV6k"
DEMO_WK_KEY = "wk_demo_6f5e4d3c2b1a0f9e8d7c"  # the emulator's key, not a real one
DEMO_VIASTO_COMPANY = 4
DEMO_VIASTO_IDENTIFIER = "acme-inc"
DEMO_VIASTO_USER = "recruiter@acme.example"
DEMO_VIASTO_PASSWORD = "demo-password-not-real"  # noqa: S105 - the emulator's demo login
DEMO_VIASTO_TOKEN = "dec0de00dec0de00dec0de00dec0de00dec0de00"  # noqa: S105 - a permanent demo token
VIASTO_PROJECTS = 4

Emulator = FlatchrEmulator | WelcomeKitEmulator | ViastoEmulator


@dataclass
class SeededEmulator:
    """A seeded emulator, where it will listen, and the connection settings that reach it."""

    vendor: str
    emulator: Emulator
    host: str
    port: int
    base_url: str
    """The server's root; the control API is under ``{base_url}/_emulator/``."""
    settings: dict[str, Any]
    """Connection settings for the vendor's connector, ``base_url`` (its API root) included."""
    accounts: int = 1
    """Accounts served; account ``i``'s credentials: ``account_credentials(vendor, i)``."""

    @property
    def app(self) -> ASGIApp:
        return self.emulator.app

    def announcement(self) -> dict[str, Any]:
        shown = {"vendor": self.vendor, "base_url": self.base_url, "settings": self.settings}
        return shown if self.accounts == 1 else {**shown, "accounts": self.accounts}


def server_url(host: str, port: int) -> str:
    """The URL clients use: a wildcard bind address is reached through loopback."""
    shown = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)  # noqa: S104
    return f"http://[{shown}]:{port}" if ":" in shown else f"http://{shown}:{port}"


def account_credentials(vendor: str, index: int) -> dict[str, Any]:
    """The credentials of account ``index`` of a many-account emulator (``--accounts N``).

    Account 0 has the demo credentials above; account ``i`` adds ``-i`` to each (viasto: company
    ``4 + i``, its token's first 8 characters replaced by ``i`` in hex)."""
    suffix = f"-{index}" if index else ""
    if vendor == "flatchr":
        return {"company_id": DEMO_FLATCHR_COMPANY + suffix, "api_key": DEMO_FLATCHR_KEY + suffix}
    if vendor == "welcomekit":
        return {"organization_reference": DEMO_WK_ORG + suffix, "api_key": DEMO_WK_KEY + suffix}
    return {
        "company_id": DEMO_VIASTO_COMPANY + index,
        "token": f"{index:08x}{DEMO_VIASTO_TOKEN[8:]}" if index else DEMO_VIASTO_TOKEN,
        "username": f"recruiter{suffix}@acme.example",
        "password": DEMO_VIASTO_PASSWORD,
        "company_identifier": DEMO_VIASTO_IDENTIFIER + suffix,
    }


def account_settings(vendor: str, root: str, index: int = 0) -> dict[str, Any]:
    """Connection settings (with ``base_url``) for account ``index`` of an emulator at ``root``."""
    found = account_credentials(vendor, index)
    if vendor == "flatchr":
        return {**found, "base_url": root}
    if vendor == "welcomekit":
        return {**found, "base_url": f"{root}/api/v1/external"}
    return {
        "company_id": str(found["company_id"]),
        "username": found["username"],
        "password": found["password"],
        "company_identifier": found["company_identifier"],
        "base_url": f"{root}/api/v3",
    }


def flatchr(*, port: int, size: int, host: str = "127.0.0.1", accounts: int = 1) -> SeededEmulator:
    emulator = FlatchrEmulator()
    for index in range(accounts):
        found = account_credentials("flatchr", index)
        emulator.add_company(
            company_id=found["company_id"],
            api_key=found["api_key"],
            name="Hôpital de la Timone" + (f" {index}" if index else ""),
            size=size,
            seed=1 + index,
        )
    root = server_url(host, port)
    return SeededEmulator(
        "flatchr", emulator, host, port, root, account_settings("flatchr", root), accounts
    )


def welcomekit(
    *, port: int, size: int, host: str = "127.0.0.1", accounts: int = 1
) -> SeededEmulator:
    root = server_url(host, port)
    emulator = WelcomeKitEmulator(cdn_base=root)  # file URLs must open on this server
    for index in range(accounts):
        found = account_credentials("welcomekit", index)
        emulator.add_organization(
            reference=found["organization_reference"],
            name="Welcome to the Jungle" + (f" {index}" if index else ""),
            api_key=found["api_key"],
            size=size,
            seed=1 + index,
        )
    return SeededEmulator(
        "welcomekit", emulator, host, port, root, account_settings("welcomekit", root), accounts
    )


def viasto(*, port: int, size: int, host: str = "127.0.0.1", accounts: int = 1) -> SeededEmulator:
    root = server_url(host, port)
    emulator = ViastoEmulator(host=root)  # absolute links (meta.next, cv, photo) point here
    for index in range(accounts):
        found = account_credentials("viasto", index)
        emulator.add_company(
            company_id=found["company_id"],
            name="ACME GmbH" + (f" {index}" if index else ""),
            token=found["token"],
            username=found["username"],
            password=found["password"],
            identifier=found["company_identifier"],
            projects=VIASTO_PROJECTS if accounts == 1 else 1,
            candidates=size,
            seed=1 + index,
        )
    return SeededEmulator(
        "viasto", emulator, host, port, root, account_settings("viasto", root), accounts
    )


BUILDERS: dict[str, Callable[..., SeededEmulator]] = {
    "flatchr": flatchr,
    "welcomekit": welcomekit,
    "viasto": viasto,
}


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


async def start_server(
    app: Any, port: int, host: str = "127.0.0.1"
) -> tuple[uvicorn.Server, asyncio.Task[None]]:
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.02)
    return server, task


async def serve_emulator(
    vendor: str,
    *,
    port: int,
    size: int,
    host: str = "127.0.0.1",
    announce: Callable[[str], None] = print,
    accounts: int = 1,
) -> None:
    """Serve one seeded emulator until uvicorn is told to stop (Ctrl-C, SIGTERM).

    The JSON line is announced only once the port accepts connections, so a script may use the
    emulator as soon as it has read the line.
    """
    seeded = BUILDERS[vendor](port=port or free_port(host), size=size, host=host, accounts=accounts)
    _, task = await start_server(seeded.app, seeded.port, host)
    announce(json.dumps(seeded.announcement(), ensure_ascii=False))
    await task


def run_emulator(
    vendor: str,
    *,
    port: int,
    size: int,
    host: str = "127.0.0.1",
    announce: Callable[[str], None] = print,
    accounts: int = 1,
) -> None:
    """:func:`serve_emulator` for a command line: Ctrl-C and SIGTERM both end it cleanly."""

    def stop(signum: int, frame: FrameType | None) -> None:
        # uvicorn handles SIGTERM while serving, then raises it again once stopped: end here
        # (exit status 0) instead of being killed by the default handler.
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(
                serve_emulator(
                    vendor, port=port, size=size, host=host, announce=announce, accounts=accounts
                )
            )
    finally:
        signal.signal(signal.SIGTERM, previous)
