"""``/api/ats/v1/sync-status``: what the last syncs of this connection did, and a resync trigger."""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Literal

from fastapi import APIRouter, Query, Request, Response, status
from pydantic import BaseModel, Field

from unified_ats.api.deps import ConnectionDep, ServicesDep
from unified_ats.api.idempotency import IdempotencyKey, idempotent, model_response
from unified_ats.api.responses import errors
from unified_ats.store.idempotency import scope_of
from unified_ats.store.sync_runs import RUNNING, RunState
from unified_ats.store.tables import SyncRun

router = APIRouter(prefix="/api/ats/v1", tags=["sync"])

SyncState = Literal[
    "never", "queued", "running", "succeeded", "partial", "failed", "interrupted", "abandoned"
]


class QuarantinedOut(BaseModel):
    kind: str = Field(description="What kind of vendor record (candidate or job).")
    remote_id: str | None = Field(description="The vendor's id, or null when it had none usable.")
    reason: str = Field(description="Why it could not be mapped or stored (never its content).")
    count: int = Field(description="How many times syncs met it.")
    first_seen_at: datetime
    last_seen_at: datetime


class ModelCounts(BaseModel):
    seen: int = Field(description="Records of this model the run enumerated.")
    changed: int = Field(description="Records whose content was new or changed.")
    deleted: int = Field(description="Records marked `remote_was_deleted` (full runs only).")


class SyncStatus(BaseModel):
    connection_id: uuid.UUID
    state: SyncState = Field(
        description="`never`; `queued` (a sync job waits for a worker, none is running); "
        "`running`; `succeeded`; `partial` (the enumeration ended but could not be "
        "proven complete: nothing was marked deleted, see `incomplete_reason`); `failed` (see "
        "`last_error`); `interrupted` (cancelled or stopped); `abandoned` (the process running "
        "it died: no heartbeat within the lease time; the next full run resumes its work)."
    )
    last_run_kind: Literal["full", "incremental"] | None = None
    last_started_at: datetime | None
    last_finished_at: datetime | None
    last_heartbeat_at: datetime | None = Field(
        default=None, description="Last sign of life of a running sync."
    )
    last_success_at: datetime | None = Field(description="Start of the last successful run.")
    last_full_success_at: datetime | None
    last_error: str | None = Field(description="Mapped vendor or store error, without secrets.")
    incomplete_reason: str | None = Field(
        default=None, description="Why a `partial` run marked no deletions."
    )
    resumed: bool = Field(default=False, description="The run took over an unfinished one's work.")
    queued: bool = Field(
        default=False,
        description="A sync waits: the running run's follow-up, or a job waiting for a worker "
        "(PostgreSQL; also while a vendor's `Retry-After` is honoured).",
    )
    seen: int = Field(description="Candidates the last run enumerated.")
    changed: int = Field(description="Candidates whose content was new or changed.")
    deleted: int = Field(description="Candidates marked deleted.")
    quarantined: int = Field(default=0, description="Records the last run could not keep.")
    models: dict[str, ModelCounts] = Field(
        default_factory=dict,
        description="The last run's counts per model: `jobs`, `job_interview_stages`, "
        "`candidates`, `applications`, `attachments` (a model the connector does not serve "
        "is absent).",
    )
    total: int | None
    duration_seconds: float | None
    quarantine: list[QuarantinedOut] = Field(
        default_factory=list,
        description="Vendor records that syncs could not map or store, newest first (at most "
        "100). They are never marked deleted; a record leaves the list when a complete run "
        "stores it.",
    )


class ResyncAccepted(BaseModel):
    status: Literal["started", "queued"] = Field(
        description="`started`: a run began (with worker processes: a job was enqueued and "
        "no other sync of this connection runs or waits). `queued`: a sync of this connection "
        "is running or waiting; this request joined it as its single follow-up (several "
        "requests coalesce into one; a full request makes it full)."
    )
    full: bool


def shown_state(run: SyncRun, *, now: datetime, lease_seconds: float) -> SyncState:
    """A run still ``running`` whose heartbeat went quiet is abandoned, even before the next run
    takes the lease and records it so."""
    quiet = run.heartbeat_at is not None and now - run.heartbeat_at > timedelta(
        seconds=lease_seconds
    )
    if run.state == RUNNING and quiet:
        return "abandoned"
    state: SyncState = RunState(run.state).value
    return state


@router.get(
    "/sync-status",
    response_model=SyncStatus,
    responses=errors(401),
    operation_id="sync_status_get",
    summary="Sync status of this connection",
)
async def sync_status(services: ServicesDep, connection: ConnectionDep) -> SyncStatus:
    latest = await services.runs.latest(connection.id)
    success = await services.runs.last_success(connection.id)
    full_success = await services.runs.last_success(connection.id, full=True)
    lease = await services.runs.lease(connection.id)
    waiting = await services.jobs.sync_waiting(connection.id)
    quarantine = await services.runs.quarantined(connection.id)
    now = datetime.now(UTC)
    base = SyncStatus(
        connection_id=connection.id,
        state="never",
        last_started_at=None,
        last_finished_at=None,
        last_success_at=success.started_at if success else None,
        last_full_success_at=full_success.started_at if full_success else None,
        last_error=None,
        queued=bool(lease and lease.follow_up) or waiting,
        seen=0,
        changed=0,
        deleted=0,
        total=None,
        duration_seconds=None,
        quarantine=[
            QuarantinedOut(
                kind=q.kind,
                remote_id=q.remote_id,
                reason=q.reason,
                count=q.count,
                first_seen_at=q.first_seen_at,
                last_seen_at=q.last_seen_at,
            )
            for q in quarantine
        ],
    )
    if latest is None:
        return base.model_copy(update={"state": "queued"}) if waiting else base
    state = shown_state(latest, now=now, lease_seconds=services.sync_engine.lease_seconds)
    if waiting and state != "running":
        state = "queued"  # the last run's outcome stays in its fields (last_error, counts)
    return base.model_copy(
        update={
            "state": state,
            "last_run_kind": "full" if latest.full else "incremental",
            "last_started_at": latest.started_at,
            "last_finished_at": latest.finished_at,
            "last_heartbeat_at": latest.heartbeat_at,
            "last_error": latest.error,
            "incomplete_reason": latest.incomplete_reason,
            "resumed": latest.resumed_from is not None,
            "seen": latest.seen,
            "changed": latest.changed,
            "deleted": latest.deleted,
            "quarantined": latest.quarantined,
            "models": {
                name: ModelCounts.model_validate(counts)
                for name, counts in (latest.models or {}).items()
            },
            "total": latest.total,
            "duration_seconds": latest.duration_seconds,
        }
    )


@router.post(
    "/sync-status",
    response_model=ResyncAccepted,
    status_code=status.HTTP_202_ACCEPTED,
    responses=errors(401, 409, 422),
    operation_id="sync_status_trigger",
    summary="Ask for a sync now",
)
async def request_resync(
    request: Request,
    services: ServicesDep,
    connection: ConnectionDep,
    full: bool = Query(False, description="Enumerate everything (and detect deletions)."),
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Start a sync in the background. While one runs, requests coalesce into one follow-up:
    at most one sync of a connection runs and at most one waits, whoever asks."""

    async def run(look_up_first: bool) -> Response:
        started = await services.trigger_sync(connection.id, full=True if full else None)
        accepted = ResyncAccepted(status="started" if started else "queued", full=full)
        return model_response(accepted, status.HTTP_202_ACCEPTED)

    scope = scope_of(connection.id, connection.tenant_id)
    return await idempotent(request, services, scope, idempotency_key, run)
