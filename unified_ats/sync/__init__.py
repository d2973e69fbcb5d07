"""Syncing connections: the engine (one run per connection, safe deletions) and its triggers."""

from unified_ats.sync.engine import (
    SyncEngine,
    SyncProgress,
    SyncQueued,
    SyncReport,
    describe_failure,
)

__all__ = ["SyncEngine", "SyncProgress", "SyncQueued", "SyncReport", "describe_failure"]
