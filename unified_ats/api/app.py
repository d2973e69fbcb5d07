"""``create_app()``: the FastAPI application."""

import gc
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.telemetry import TelemetryConfig

from unified_ats.api.docs_pages import install_docs
from unified_ats.api.errors import NeverFiveHundred, install_error_handlers
from unified_ats.api.limits import RequestLimits
from unified_ats.api.openapi import build_openapi
from unified_ats.api.routes import (
    applications,
    attachments,
    candidates,
    connections,
    files,
    health,
    jobs,
    link,
    passthrough,
    sync,
    webhook_endpoints,
    webhooks,
    writes,
)
from unified_ats.log_redaction import protect_service_logs
from unified_ats.services import Services
from unified_ats.settings import Settings

DESCRIPTION = """A unified ATS API shaped like Bindbee's: the same Candidate, Attachment, Job,
JobInterviewStage and Application for Flatchr, Welcome to the Jungle (Welcome Kit) and
viasto Interview Suite.

Every `/api/ats/v1` data route takes `Authorization: Bearer <api key>` and
`x-connector-token: <token>`."""


TELEMETRY_OFF: TelemetryConfig = {"tracing": False, "metrics": False, "logs": False}


def create_app(
    settings: Settings | None = None,
    *,
    services: Services | None = None,
    start_services: Callable[[Settings], Awaitable[Services]] | None = None,
) -> FastAPI:
    """The app. Pass ``services`` to share already-started parts (tests, the demo)."""
    settings = settings or (services.settings if services else Settings())
    protect_service_logs()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = services is None
        app.state.services = services or await (start_services or Services.start)(settings)
        # Long-lived startup objects leave the GC's generations: shorter, rarer pauses (p99).
        gc.collect()
        gc.freeze()
        if owned:
            # In-process (SQLite): the scheduler and the delivery worker run here. With
            # procrastinate (PostgreSQL), nothing: `unified-ats worker` processes run the jobs.
            app.state.services.start_jobs()
        try:
            yield
        finally:
            if owned:
                await app.state.services.aclose()

    app = FastAPI(
        title="unified-ats",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        # operationIds are the route functions' names (`candidates_list`), not FastAPI's
        # path-derived ones: generated clients name their methods after them.
        generate_unique_id_function=operation_id,
        docs_url=None,  # install_docs: Swagger UI and ReDoc from local assets, not a CDN
        redoc_url=None,
        telemetry=None if settings.opentelemetry else TELEMETRY_OFF,
    )
    install_docs(app)
    if services is not None:
        app.state.services = services
    install_error_handlers(app)
    # The hot read routes first: a request is matched against the routes in this order.
    for module in (
        candidates,
        attachments,
        applications,
        jobs,
        writes,
        connections,
        link,
        sync,
        webhooks,
        webhook_endpoints,
        passthrough,
        files,
        health,
    ):
        app.include_router(module.router)
    app.include_router(link.page_router)
    # Added first, so it runs inside NeverFiveHundred: nothing it does can answer a 500.
    app.add_middleware(RequestLimits)
    app.add_middleware(NeverFiveHundred)
    app.openapi = lambda: build_openapi(app)  # type: ignore[method-assign]
    return app


def operation_id(route: APIRoute) -> str:
    return route.name


def openapi_document() -> dict[str, Any]:
    return create_app(Settings()).openapi()
