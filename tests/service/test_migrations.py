"""The Alembic migrations build exactly the schema the models describe, on both backends."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from unified_ats.store.database import make_engine, migrate
from unified_ats.store.tables import Base


def ours(name, type_, parent_names):  # type: ignore[no-untyped-def]
    return not (name or "").startswith(("procrastinate_", "uats_procrastinate_"))


async def test_migrated_schema_matches_the_models(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        await migrate(engine)
        await migrate(engine)  # idempotent

        def diff(connection):  # type: ignore[no-untyped-def]
            # procrastinate's job queue (migration 0007, PostgreSQL) is not in our metadata.
            context = MigrationContext.configure(connection, opts={"include_name": ours})
            return compare_metadata(context, Base.metadata)

        async with engine.connect() as connection:
            differences = await connection.run_sync(diff)
        assert differences == []
    finally:
        await engine.dispose()
