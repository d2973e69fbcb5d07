"""procrastinate's job queue schema (PostgreSQL only; SQLite runs jobs in-process)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 15:40:00

The schema is procrastinate's own SQL (``procrastinate.schema.SchemaManager``), applied as is,
plus one index of ours: the outstanding sync jobs of a tenant are counted at every enqueue
(fairness, see ``unified_ats.jobs.fairness``). Its tables are not in our SQLAlchemy metadata;
``env.py`` keeps autogenerate away from them.
"""

from collections.abc import Sequence

from alembic import op
from sqlalchemy.util import await_only

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TENANT_INDEX = (
    "CREATE INDEX IF NOT EXISTS uats_procrastinate_sync_tenant_idx ON procrastinate_jobs "
    "((args->>'tenant_id')) WHERE task_name = 'sync' AND status IN ('todo', 'doing')"
)


def _run_script(sql: str) -> None:
    """A multi-statement script (functions with ``$$`` bodies): asyncpg's simple query
    protocol, on the connection the migration runs in (same transaction)."""
    raw = op.get_bind().connection.dbapi_connection
    driver = getattr(raw, "driver_connection", None) or raw._connection  # type: ignore[union-attr]
    await_only(driver.execute(sql))


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    from procrastinate.schema import SchemaManager

    exists = op.get_bind().exec_driver_sql("SELECT to_regclass('procrastinate_jobs')").scalar()
    if exists is None:
        _run_script(SchemaManager.get_schema())
    op.execute(TENANT_INDEX)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    _run_script(
        """
        DO $$
        DECLARE r record;
        BEGIN
            FOR r IN SELECT tablename FROM pg_tables
                     WHERE schemaname = current_schema() AND tablename LIKE 'procrastinate_%'
            LOOP
                EXECUTE 'DROP TABLE IF EXISTS ' || quote_ident(r.tablename) || ' CASCADE';
            END LOOP;
            FOR r IN SELECT p.oid::regprocedure AS sig FROM pg_proc p
                     JOIN pg_namespace n ON n.oid = p.pronamespace
                     WHERE n.nspname = current_schema() AND p.proname LIKE 'procrastinate_%'
            LOOP EXECUTE 'DROP FUNCTION IF EXISTS ' || r.sig || ' CASCADE'; END LOOP;
            FOR r IN SELECT t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
                     WHERE n.nspname = current_schema() AND t.typname LIKE 'procrastinate_%'
                       AND t.typtype = 'e'
            LOOP EXECUTE 'DROP TYPE IF EXISTS ' || quote_ident(r.typname) || ' CASCADE'; END LOOP;
        END $$;
        """
    )
