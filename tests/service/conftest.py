"""The service in-process: store (SQLite, and PostgreSQL when available), emulators, API client."""

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from connectors.flatchr.emulator import FlatchrEmulator
from connectors.sdk.emulation import EmulatorTransport
from connectors.sdk.http import RetryPolicy
from connectors.viasto.emulator import ViastoEmulator
from connectors.welcomekit.emulator import WelcomeKitEmulator
from unified_ats.api.app import create_app
from unified_ats.services import Services
from unified_ats.settings import Settings

PG_URL = os.environ.get(
    "UNIFIED_ATS_TEST_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
FLATCHR_COMPANY = "Wy3EOp2NP3p1KMq8"
FLATCHR_KEY = "flt_service_test_key_9a8b7c"
WK_ORG = "Pg4eV6k"
WK_KEY = "wk_service_test_key_1f2e3d"
VIASTO_TOKEN = "c0ffee" * 6 + "beef"


async def _postgres_ready() -> str | None:
    engine = create_async_engine(PG_URL)
    try:
        async with engine.begin() as connection:
            await connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            await connection.execute(text("CREATE SCHEMA public"))
        return None
    except Exception as exc:
        return f"PostgreSQL at {PG_URL} is not available ({type(exc).__name__})"
    finally:
        await engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'store.db'}"
    problem = await _postgres_ready()
    if problem:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{problem}; PostgreSQL tests must run under CI")
        pytest.skip(problem)
    return PG_URL


@dataclass
class Stack:
    services: Services
    flatchr: FlatchrEmulator
    client: httpx.AsyncClient
    api_key: str
    tenant: uuid.UUID
    welcomekit: WelcomeKitEmulator
    viasto: ViastoEmulator

    async def connect(self, connector: str, settings: dict) -> dict:
        response = await self.client.post(
            "/api/ats/v1/connections",
            json={"connector": connector, "settings": settings},
            headers={"Authorization": f"Bearer {self.api_key}"},
        )
        assert response.status_code == 201, response.text
        await asyncio.gather(*self.services.background)
        return response.json()

    async def connect_vendor(self, vendor: str) -> dict:
        """A connection to the emulated account of ``vendor`` (its first sync done)."""
        if vendor == "flatchr":
            return await self.connect_flatchr()
        if vendor == "welcomekit":
            return await self.connect(
                "welcomekit", {"api_key": WK_KEY, "organization_reference": WK_ORG}
            )
        return await self.connect("viasto", {"token": VIASTO_TOKEN, "company_id": "4"})

    async def connect_flatchr(
        self, company_id: str = FLATCHR_COMPANY, key: str = FLATCHR_KEY
    ) -> dict:
        response = await self.client.post(
            "/api/ats/v1/connections",
            json={"connector": "flatchr", "settings": {"api_key": key, "company_id": company_id}},
            headers={"Authorization": f"Bearer {self.api_key}"},
        )
        assert response.status_code == 201, response.text
        body = response.json()
        await asyncio.gather(*self.services.background)  # the first sync
        return body

    def headers(self, token: str, api_key: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {api_key or self.api_key}", "x-connector-token": token}


def seeded_emulators() -> tuple[FlatchrEmulator, WelcomeKitEmulator, ViastoEmulator]:
    """One account per vendor, the data every service test reads (the live server's too)."""
    viasto = ViastoEmulator()
    viasto.add_company(
        company_id=4, name="ACME GmbH", token=VIASTO_TOKEN, projects=2, candidates_per_project=9
    )
    welcomekit = WelcomeKitEmulator()
    welcomekit.add_organization(
        reference=WK_ORG, name="Welcome to the Jungle", api_key=WK_KEY, size=25, jobs=3
    )
    flatchr = FlatchrEmulator(cv_min_interval=0.0)
    flatchr.add_company(
        company_id=FLATCHR_COMPANY, api_key=FLATCHR_KEY, name="Hôpital de la Timone", size=30
    )
    return flatchr, welcomekit, viasto


@pytest.fixture
async def stack(database_url: str, tmp_path: Path) -> AsyncIterator[Stack]:
    flatchr, welcomekit, viasto = seeded_emulators()
    # One process on either store: syncs run in-process (procrastinate: tests/service/test_jobs_*).
    settings = Settings(
        data_dir=tmp_path, database_url=database_url, max_age_seconds=300, job_runner="inprocess"
    )
    services = await Services.start(
        settings,
        transports={
            "flatchr": EmulatorTransport(flatchr.app),
            "welcomekit": EmulatorTransport(welcomekit.app),
            "viasto": EmulatorTransport(viasto.app),
        },
        retry=RetryPolicy(max_attempts=2, base_delay=0.001),
    )
    tenant, api_key = await services.accounts.create_tenant("acme")
    app = create_app(services=services)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        # Welcome Kit fetches files by URL: its emulator reaches our staged files in-process.
        welcomekit.fetch = client.get
        yield Stack(services, flatchr, client, api_key, tenant, welcomekit, viasto)
    await services.aclose()
