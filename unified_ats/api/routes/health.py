"""``GET /health``: the process answers and the store is reachable."""

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from unified_ats.api.deps import ServicesDep
from unified_ats.api.models import Health
from unified_ats.api.responses import errors

router = APIRouter(tags=["health"])


@router.get("/health", response_model=Health, responses=errors(503))
async def health_get(services: ServicesDep) -> JSONResponse:
    try:
        async with services.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except Exception:
        return JSONResponse({"status": "degraded", "database": "unreachable"}, status_code=503)
    return JSONResponse({"status": "ok", "database": "ok"})
