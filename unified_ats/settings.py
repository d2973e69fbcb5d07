"""Service settings, from ``UNIFIED_ATS_*`` environment variables (zero configuration needed)."""

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="UNIFIED_ATS_", extra="ignore")

    data_dir: Path = Path(".unified-ats")
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy async URL. Default: a SQLite file in data_dir. "
        "PostgreSQL: postgresql+asyncpg://user@host:5432/db",
    )
    encryption_keys: SecretStr | None = Field(
        default=None,
        description="Comma-separated Fernet keys; the first encrypts, all decrypt (rotation). "
        "Default: a key generated once into data_dir/encryption.key (mode 0600).",
    )
    max_age_seconds: float = Field(
        default=300.0, ge=0, description="A single read refreshes from the vendor past this age."
    )
    public_base_url: str | None = Field(
        default=None, description="Base of the file_url links; default: the request's own base."
    )
    allow_base_url_override: bool = Field(
        default=False,
        description="Let connections set a vendor base_url (demo hosts, emulators). Off in "
        "production: a tenant could otherwise point the server at internal addresses.",
    )
    auth_cache_seconds: float = Field(
        default=5.0,
        ge=0,
        description="How long a verified API key or connector token is remembered in-process. "
        "Revocation is immediate in the process that revokes, within this bound elsewhere.",
    )
    read_cache_seconds: float = Field(
        default=1.0,
        ge=0,
        description="How long a candidate read from the store is kept in memory for repeat "
        "reads. Writes in this process drop it at once; 0 turns the cache off.",
    )
    opentelemetry: bool = Field(
        default=False,
        description="FastAPI's native OpenTelemetry (request spans, metrics, logs of failures) "
        "when the process has a provider configured. Off by default: FastAPI looks the "
        "providers up on every request (about 4% of a read's CPU), and what it records goes "
        "to whatever exporter the process has.",
    )
    sync_interval_seconds: float = Field(default=3600.0, ge=0)
    sync_lease_seconds: float = Field(
        default=30.0,
        gt=0,
        description="A sync run renews its lease every third of this; a process that dies "
        "mid-sync is detected (its run `abandoned`, the connection free) within this bound.",
    )
    read_deadline_seconds: float = Field(
        default=10.0,
        gt=0,
        description="Overall deadline of a read that goes to the vendor (refresh, ?remote_id=, "
        "download opening), retries included. Past it: the stored copy, else a 504.",
    )
    max_concurrent_syncs: int = Field(default=2, ge=1)
    redis_url: str | None = Field(
        default=None, description="Shares vendor rate limits across server processes."
    )
    max_body_bytes: int = Field(
        default=25 * 1024 * 1024,
        ge=1,
        description="Any request body larger than this is refused with a 413 (on "
        "Content-Length, then while it streams in), after the API key is checked. The default "
        "fits the largest file a vendor takes (10 MiB) base64-encoded in a JSON write.",
    )
    body_timeout_seconds: float = Field(
        default=30.0,
        gt=0,
        description="A request body must arrive whole within this: a 408 otherwise, so a client "
        "trickling bytes cannot hold the server.",
    )
    webhook_max_body_bytes: int = Field(
        default=1024 * 1024,
        ge=1,
        description="A vendor webhook body larger than this is refused with a 413 (checked on "
        "Content-Length and while the body streams in).",
    )
    webhook_allowed_targets: str = Field(
        default="",
        description="Outbound webhooks: comma-separated CIDRs or host names that may be "
        "delivered to although private, loopback or link-local (e.g. `127.0.0.1/32,::1/128` "
        "for a receiver on this host). Everything else must resolve to public addresses.",
    )
    webhook_delivery: bool = Field(
        default=True,
        description="Run the outbound webhook delivery worker inside `serve` (one process).",
    )
    webhook_concurrency: int = Field(
        default=64, ge=1, description="Outbound webhook requests in flight per worker."
    )
    webhook_retention_days: float = Field(
        default=7.0,
        gt=0,
        description="Delivered event bodies and their delivery log are kept this long.",
    )

    job_runner: Literal["auto", "inprocess", "procrastinate"] = Field(
        default="auto",
        description="Who runs syncs, webhook deliveries and the periodic tick. `auto`: "
        "procrastinate jobs run by `unified-ats worker` processes on PostgreSQL, the API "
        "process itself on SQLite. `inprocess` keeps them in the API process on PostgreSQL too.",
    )
    sync_tick_seconds: float = Field(
        default=30.0,
        ge=1,
        description="procrastinate: how often the periodic tick enqueues the connections due "
        "for a sync (not synced for `sync_interval_seconds`).",
    )
    sync_jitter_seconds: float = Field(
        default=30.0,
        ge=0,
        description="procrastinate: each due sync starts at a random delay up to this, so a "
        "tick's batch does not hit the vendors at one instant.",
    )
    sync_tenant_cap: int = Field(
        default=20,
        ge=1,
        description="procrastinate: at most this many syncs of one tenant waiting or running "
        "from the tick (fairness; see docs/deploy.md).",
    )
    sync_max_attempts: int = Field(
        default=5,
        ge=1,
        description="procrastinate: a sync job that meets a vendor 429/5xx or timeout is "
        "retried later (after `Retry-After` when the vendor sent one), this many times at most.",
    )
    worker_concurrency: int = Field(
        default=8, ge=1, description="`unified-ats worker`: jobs one worker runs at a time."
    )
    worker_shutdown_seconds: float = Field(
        default=10.0,
        ge=0,
        description="`unified-ats worker` on SIGTERM: running jobs get this long to finish; "
        "then they are interrupted (the current page is not committed) and retried elsewhere.",
    )
    worker_stalled_seconds: float = Field(
        default=20.0,
        ge=3,
        description="A worker silent this long (no heartbeat: `kill -9`, a lost host) is dead: "
        "its jobs are retried by another worker.",
    )

    def uses_procrastinate(self) -> bool:
        if self.job_runner == "auto":
            return self.resolved_database_url().startswith("postgresql")
        return self.job_runner == "procrastinate"

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'unified_ats.db').resolve()}"
