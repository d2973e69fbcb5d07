"""Engine, sessions and migrations. SQLite gets WAL and foreign keys; both backends use Alembic."""

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from pydantic_core import from_json, to_json
from sqlalchemy import Dialect, Engine, create_engine, event
from sqlalchemy.engine import Connection as SyncConnection
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

MIGRATIONS = Path(__file__).parent / "migrations"


class PreSerialized(str):
    """JSON text rendered already (by pydantic-core from a model): stored as is."""


def json_text(value: Any) -> str:
    """JSON columns through pydantic-core's encoder (the stdlib one dominated sync profiles)."""
    if isinstance(value, PreSerialized):
        return value
    return to_json(value).decode()


def make_engine(url: str) -> AsyncEngine:
    if url.startswith("sqlite"):
        path = url.split(":///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(
            url,
            connect_args={"timeout": 30},
            json_serializer=json_text,
            json_deserializer=from_json,
        )

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
            # 16 MB of page cache: the indexes outgrow the 2 MB default past ~20k rows, while
            # peak memory must stay flat as the data set grows (64 MB broke that budget).
            cursor.execute("PRAGMA cache_size=-16384")
            cursor.execute("PRAGMA wal_autocheckpoint=10000")
            cursor.close()

        return engine
    return create_async_engine(
        url,
        pool_size=10,
        max_overflow=20,
        pool_pre_ping=True,
        json_serializer=json_text,
        json_deserializer=from_json,  # pydantic-core's parser: reads dominate list routes
    )


def autocommit_read_engine(engine: AsyncEngine) -> AsyncEngine | None:
    """PostgreSQL only: a small pool for single-statement reads, in autocommit and without a
    pre-ping.

    Through the main pool a read by id took six round trips: the pre-ping's BEGIN, ``;`` and
    ROLLBACK, then the read's own BEGIN, SELECT and ROLLBACK. One statement needs no
    transaction, and a connection the server dropped is caught when the read fails (the
    caller retries it once: a read is safe to repeat), so here it takes one.

    No overflow: SQLAlchemy closes an overflow connection as soon as it is returned, so under
    more concurrent reads than the pool holds every read past it opened (and set up) a new
    server connection, which cost more than the read. A read waits for a pooled one instead.
    """
    if engine.url.get_backend_name() != "postgresql":
        return None
    return create_async_engine(
        engine.url,
        isolation_level="AUTOCOMMIT",
        pool_size=15,
        max_overflow=0,
        pool_timeout=30,
        json_serializer=json_text,
        json_deserializer=from_json,
    )


def direct_read_engine(engine: AsyncEngine) -> Engine | None:
    """SQLite files only: a synchronous engine on the same file, for short indexed reads run
    on the event loop itself.

    A read by id takes SQLite ~0.1 ms, while the async driver hands each step (checkout,
    execute, fetch, reset) to its own thread and back: those hand-offs, not the query, were the
    single read's cost under load. WAL readers never wait for the writer, so a bounded read
    holds the loop for less than one hand-off. Only reads whose cost an index bounds belong
    here (see RecordStore); a busy file fails fast (``timeout``) and the caller goes async.
    """
    url = engine.url
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    if "mode=memory" in str(url):
        return None
    direct = create_engine(
        url.set(drivername="sqlite"),
        connect_args={"timeout": 0.05, "check_same_thread": False},
        pool_size=1,
        max_overflow=2,
    )

    @event.listens_for(direct, "connect")
    def _read_pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA query_only=ON")  # a read path: never a write through it
        cursor.close()

    @event.listens_for(engine.sync_engine, "engine_disposed")
    def _dispose_direct(_engine: Any) -> None:
        direct.dispose()

    return direct


class CompiledRead:
    """One hot read compiled once for an engine and run on its driver's own connection.

    SQLAlchemy's Core execution (context set-up, result metadata, a Row per row) cost about
    twice the query itself on a list page; the compiled SQL, its bound values made by the
    columns' own types, and the driver's rows back keep the query the only cost. Rows come
    back as the driver gives them: use it only for columns that need no conversion.
    """

    def __init__(self, dialect: Dialect, statement: Any) -> None:
        compiled = statement.compile(dialect=dialect)
        self.compiled = compiled
        self.sql = str(compiled)
        names: list[str] = list(compiled.positiontup or ())
        self.binds = [(name, compiled.binds[name].type.bind_processor(dialect)) for name in names]

    def arguments(self, parameters: dict[str, Any]) -> tuple[Any, ...]:
        values = self.compiled.construct_params(parameters)
        return tuple(
            process(values[name]) if process is not None else values[name]
            for name, process in self.binds
        )

    def rows_on(self, engine: Engine, parameters: dict[str, Any]) -> list[tuple[Any, ...]]:
        """On a synchronous engine's raw DBAPI connection (SQLite's direct reads)."""
        connection = engine.raw_connection()
        try:
            cursor = connection.cursor()
            try:
                cursor.execute(self.sql, self.arguments(parameters))
                return list(cursor.fetchall())
            finally:
                cursor.close()
        finally:
            connection.close()

    async def rows_on_async(
        self, engine: AsyncEngine, parameters: dict[str, Any]
    ) -> list[tuple[Any, ...]]:
        """On an asyncpg connection (the autocommit read pool): one round trip. That pool
        has no pre-ping, so a connection the server dropped (a restart, a failover) fails
        here: it is thrown away and the read, safe to repeat, runs once more."""
        arguments = self.arguments(parameters)
        for attempt in (1, 2):
            async with engine.connect() as connection:
                raw = await connection.get_raw_connection()
                driver: Any = raw.driver_connection
                try:
                    return [tuple(row) for row in await driver.fetch(self.sql, *arguments)]
                except Exception as exc:
                    if attempt == 2 or not driver.is_closed():
                        raise
                    await connection.invalidate(exc)
        raise AssertionError("the second attempt returns or raises")


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[Any]:
    return async_sessionmaker(engine, expire_on_commit=False)


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def _upgrade(connection: SyncConnection) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


async def migrate(engine: AsyncEngine) -> None:
    """Bring the schema to the latest migration (idempotent)."""
    async with engine.begin() as connection:
        await connection.run_sync(_upgrade)
