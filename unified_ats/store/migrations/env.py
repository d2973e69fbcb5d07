"""Alembic environment: runs on the connection handed in by ``database.migrate``."""

from alembic import context

from unified_ats.store.tables import Base

target_metadata = Base.metadata
connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through unified_ats.store.database.migrate()")
context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
