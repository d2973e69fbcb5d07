"""Alembic environment: runs on the connection handed in by ``database.migrate``."""

from typing import Any

from alembic import context

from unified_ats.store.tables import Base

target_metadata = Base.metadata
connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through unified_ats.store.database.migrate()")


def ours(name: str | None, type_: str, parent_names: Any) -> bool:
    """procrastinate's tables (migration 0007) are not in our metadata: never compare them."""
    return not (name or "").startswith(("procrastinate_", "uats_procrastinate_"))


context.configure(
    connection=connection,
    target_metadata=target_metadata,
    render_as_batch=True,
    include_name=ours,
)
with context.begin_transaction():
    context.run_migrations()
