"""``/api/ats/v1/sync-status``: what the last syncs of this connection did, and a resync trigger."""

from datetime import datetime

from fastapi import APIRouter, Query, status
from pydantic import BaseModel, Field

from unified_ats.api.deps import ConnectionDep, ServicesDep
from unified_ats.api.responses import errors

router = APIRouter(prefix="/api/ats/v1", tags=["sync"])


class SyncStatus(BaseModel):
    connection_id: str
    state: str = Field(description="never, running, succeeded, failed or interrupted.")
    last_run_kind: str | None = Field(description="full or incremental.")
    last_started_at: datetime | None
    last_finished_at: datetime | None
    last_success_at: datetime | None = Field(description="Start of the last successful run.")
    last_full_success_at: datetime | None
    last_error: str | None = Field(description="Mapped vendor error, without secrets.")
    seen: int
    changed: int
    deleted: int
    total: int | None
    duration_seconds: float | None


class ResyncAccepted(BaseModel):
    status: str
    full: bool


@router.get("/sync-status", response_model=SyncStatus, responses=errors(401))
async def sync_status(services: ServicesDep, connection: ConnectionDep) -> SyncStatus:
    latest = await services.runs.latest(connection.id)
    success = await services.runs.last_success(connection.id)
    full_success = await services.runs.last_success(connection.id, full=True)
    return SyncStatus(
        connection_id=str(connection.id),
        state=latest.state if latest else "never",
        last_run_kind=("full" if latest.full else "incremental") if latest else None,
        last_started_at=latest.started_at if latest else None,
        last_finished_at=latest.finished_at if latest else None,
        last_success_at=success.started_at if success else None,
        last_full_success_at=full_success.started_at if full_success else None,
        last_error=latest.error if latest else None,
        seen=latest.seen if latest else 0,
        changed=latest.changed if latest else 0,
        deleted=latest.deleted if latest else 0,
        total=latest.total if latest else None,
        duration_seconds=latest.duration_seconds if latest else None,
    )


@router.post(
    "/sync-status",
    response_model=ResyncAccepted,
    status_code=status.HTTP_202_ACCEPTED,
    responses=errors(401, 422),
)
async def request_resync(
    services: ServicesDep,
    connection: ConnectionDep,
    full: bool = Query(False, description="Enumerate everything (and detect deletions)."),
) -> ResyncAccepted:
    """Ask for a sync now; it runs in the background (skipped if one is already running)."""
    services.sync_in_background(connection.id, full=True if full else None)
    return ResyncAccepted(status="accepted", full=full)
