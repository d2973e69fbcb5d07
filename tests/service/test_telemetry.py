"""FastAPI's native OpenTelemetry stays off unless the operator asks for it
(``UNIFIED_ATS_OPENTELEMETRY``): what it records leaves the process through whatever exporter is
configured, and looking the providers up cost every request."""

from pathlib import Path
from typing import Any

import httpx
import pytest
from opentelemetry import trace

from unified_ats.api.app import create_app
from unified_ats.services import Services
from unified_ats.settings import Settings


class RecordingTracerProvider(trace.TracerProvider):
    """A configured provider (neither the API's deferred default nor its no-op one): records
    who asked it for a tracer."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    def get_tracer(self, instrumenting_module_name: str, *args: Any, **kwargs: Any) -> trace.Tracer:
        self.asked.append(instrumenting_module_name)
        return trace.NoOpTracer()


@pytest.mark.parametrize("opentelemetry", [False, True])
async def test_request_spans_only_when_asked_for(
    opentelemetry: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    provider = RecordingTracerProvider()
    monkeypatch.setattr(trace, "get_tracer_provider", lambda: provider)
    services = await Services.start(
        Settings(data_dir=tmp_path, job_runner="inprocess", opentelemetry=opentelemetry)
    )
    try:
        app = create_app(services=services)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            response = await client.get("/api/ats/v1/candidates")
        assert response.status_code == 401
        assert bool(provider.asked) is opentelemetry
    finally:
        await services.aclose()
