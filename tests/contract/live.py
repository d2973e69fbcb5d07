"""The real app served by uvicorn on a loopback port, in a thread with its own event loop.

The store, the vendor emulators (in-process transports) and the server all live on that loop, so
blocking clients (a generated client, schemathesis' ``requests``) can call it from the test
thread. Each vendor gets one connection, synced before the server accepts requests.
"""

import asyncio
import socket
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from connectors.flatchr.emulator import FlatchrEmulator
from connectors.sdk.emulation import EmulatorTransport
from connectors.sdk.http import RetryPolicy
from connectors.sdk.ratelimit import NoRateLimiter
from connectors.viasto.emulator import ViastoEmulator
from connectors.welcomekit.emulator import WelcomeKitEmulator
from tests.service.conftest import (
    FLATCHR_COMPANY,
    FLATCHR_KEY,
    VIASTO_TOKEN,
    WK_KEY,
    WK_ORG,
    seeded_emulators,
)
from unified_ats.api.app import create_app
from unified_ats.services import Services
from unified_ats.settings import Settings

API = "/api/ats/v1"
VENDOR_SETTINGS: dict[str, dict[str, str]] = {
    "flatchr": {"api_key": FLATCHR_KEY, "company_id": FLATCHR_COMPANY},
    "welcomekit": {"api_key": WK_KEY, "organization_reference": WK_ORG},
    "viasto": {"token": VIASTO_TOKEN, "company_id": "4"},
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class LiveServer:
    base_url: str
    api_key: str
    tenant: uuid.UUID
    connections: dict[str, dict[str, Any]]  # connector -> the create answer (token, id, …)
    flatchr: FlatchrEmulator
    welcomekit: WelcomeKitEmulator
    viasto: ViastoEmulator
    loop: asyncio.AbstractEventLoop = field(repr=False)
    services: Services = field(repr=False)
    vendors: dict[str, httpx.AsyncBaseTransport] = field(repr=False, default_factory=dict)

    def token(self, connector: str = "flatchr") -> str:
        return self.connections[connector]["connector_token"]

    def headers(self, connector: str = "flatchr") -> dict[str, str]:
        token = self.token(connector)
        return {"Authorization": f"Bearer {self.api_key}", "x-connector-token": token}

    def run(self, coroutine: Any, timeout: float = 60) -> Any:
        """Run a coroutine on the server's loop (the store belongs to it) and wait for it."""
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def connect(self, connector: str, api_key: str | None = None) -> dict[str, Any]:
        """A new connection (first sync done), through the API as a tenant would."""
        with httpx.Client(base_url=self.base_url, timeout=60) as client:
            response = client.post(
                f"{API}/connections",
                json={"connector": connector, "settings": VENDOR_SETTINGS[connector]},
                headers={"Authorization": f"Bearer {api_key or self.api_key}"},
            )
        assert response.status_code == 201, response.text
        self.run(self.services.wait_for_background())
        return response.json()

    def new_tenant(self, name: str) -> tuple[uuid.UUID, str]:
        return self.run(self.services.accounts.create_tenant(name))


@contextmanager
def live_server(
    tmp_path: Path, database_url: str, *, connectors: tuple[str, ...] = tuple(VENDOR_SETTINGS)
) -> Iterator[LiveServer]:
    """Start the stack and uvicorn in a thread; stop both on exit."""
    ready = threading.Event()
    state: dict[str, Any] = {}
    port = free_port()

    async def main() -> None:
        flatchr, welcomekit, viasto = seeded_emulators()
        vendors: dict[str, httpx.AsyncBaseTransport] = {
            "flatchr": EmulatorTransport(flatchr.app),
            "welcomekit": EmulatorTransport(welcomekit.app),
            "viasto": EmulatorTransport(viasto.app),
        }
        settings = Settings(
            data_dir=tmp_path,
            database_url=database_url,
            max_age_seconds=300,
            sync_interval_seconds=0,
            job_runner="inprocess",  # one process, on either store
        )
        services = await Services.start(
            settings,
            transports=vendors,
            retry=RetryPolicy(max_attempts=2, base_delay=0.001),
            limiter=NoRateLimiter(),  # vendor rate limits are tested elsewhere; time is short here
        )
        server: uvicorn.Server | None = None
        try:
            tenant, api_key = await services.accounts.create_tenant("acme")
            app = create_app(services=services)
            server = uvicorn.Server(
                uvicorn.Config(
                    app,
                    host="127.0.0.1",
                    port=port,
                    log_level="warning",
                    access_log=False,
                    lifespan="on",
                )
            )
            state.update(
                server=server,
                live=LiveServer(
                    base_url=f"http://127.0.0.1:{port}",
                    api_key=api_key,
                    tenant=tenant,
                    connections={},
                    flatchr=flatchr,
                    welcomekit=welcomekit,
                    viasto=viasto,
                    loop=asyncio.get_running_loop(),
                    services=services,
                    vendors=vendors,
                ),
            )
            serving = asyncio.create_task(server.serve())
            while not server.started and not serving.done():  # noqa: ASYNC110 (uvicorn's flag)
                await asyncio.sleep(0.01)
            ready.set()
            await serving
        finally:
            ready.set()
            await services.aclose()

    def thread_main() -> None:
        try:
            asyncio.run(main())
        except BaseException as exc:  # reported to the test thread
            state["error"] = exc

    thread = threading.Thread(target=thread_main, name="live-server", daemon=True)
    thread.start()
    if not ready.wait(60) or "error" in state or not state["server"].started:
        raise RuntimeError(f"the live server did not start: {state.get('error')!r}")
    live: LiveServer = state["live"]
    try:
        for connector in connectors:
            live.connections[connector] = live.connect(connector)
        yield live
    finally:
        state["server"].should_exit = True
        thread.join(30)
        if "error" in state:
            raise RuntimeError("the live server failed") from state["error"]
