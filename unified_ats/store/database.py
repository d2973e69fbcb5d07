"""Engine, sessions and migrations. SQLite gets WAL and foreign keys; both backends use Alembic."""

import asyncio
import collections
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import asyncpg
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


# 16 MB of page cache per connection: the indexes outgrow the 2 MB default past ~20k rows,
# while peak memory must stay flat as the data set grows (64 MB broke that budget).
SQLITE_CACHE_SIZE = -16384


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
            cursor.execute(f"PRAGMA cache_size={SQLITE_CACHE_SIZE}")
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
    """PostgreSQL only: a small pool for single-statement reads that are not compiled once
    (filtered pages), in autocommit and without a pre-ping. The hot reads (by id, unfiltered
    pages) have their own pool (``PostgresReadPool``).

    Through the main pool a read took six round trips: the pre-ping's BEGIN, ``;`` and
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
        pool_size=FILTERED_READ_CONNECTIONS,
        max_overflow=0,
        pool_timeout=READ_POOL_TIMEOUT,
        json_serializer=json_text,
        json_deserializer=from_json,
    )


FILTERED_READ_CONNECTIONS = 5
HOT_READ_CONNECTIONS = 15
READ_POOL_TIMEOUT = 30.0
# SQLAlchemy's names for asyncpg's connect() options, and what SQLAlchemy itself consumes
_SQLALCHEMY_ONLY = ("prepared_statement_name_func", "async_creator_fn")


async def _keep_session(_connection: asyncpg.Connection) -> None:
    """A hot read leaves no session state behind (one statement, in autocommit): nothing to
    reset (see PostgresReadPool)."""


def _dropped(connection: Any) -> bool:
    """Whether a pooled connection's failure was the connection going away."""
    try:
        return bool(connection.is_closed())
    except asyncpg.InterfaceError:  # closing, it went back to the pool and left its proxy
        return True


class PostgresReadPool:
    """asyncpg's own pool, for the hot reads: a record by id and unfiltered pages, compiled
    once (``CompiledRead``) and run on the driver in autocommit.

    Through SQLAlchemy's async engine the same read cost about twice its query in our CPU: the
    checkout and return through greenlets, an execution context, a Row per row. asyncpg hands
    its connection over directly. Its pool resets each returned connection by default, one
    more round trip per read (RESET ALL, UNLISTEN, CLOSE ALL, advisory unlocks) for state a
    single autocommit statement never leaves; ``_keep_session`` skips that (asyncpg still rolls
    back a transaction left open). A connection the server dropped (a restart, a failover)
    fails its read: the pool's connections are all replaced at their next checkout, and the
    read, safe to repeat, runs once more. Connections are opened as reads need them, up to ``size``.
    """

    def __init__(self, engine: AsyncEngine, size: int = HOT_READ_CONNECTIONS) -> None:
        self.dialect = engine.dialect
        _, options = engine.dialect.create_connect_args(engine.url)
        options = {k: v for k, v in options.items() if k not in _SQLALCHEMY_ONLY}
        if "prepared_statement_cache_size" in options:
            options["statement_cache_size"] = options.pop("prepared_statement_cache_size")
        options.setdefault("timeout", READ_POOL_TIMEOUT)  # to open a connection
        self._options = options
        self._size = size
        # Readers take turns in arrival order. asyncpg's pool alone is not fair: a connection
        # given back wakes the longest waiter, but a read arriving before that waiter runs
        # takes the connection, and the waiter queues again at the back. Under more
        # concurrent reads than connections that starved a few reads for hundreds of ms (a
        # list's p99 at 64 connections was 159 to 464 ms; 86 to 91 ms with turns). asyncio's
        # semaphore admits waiters first (Python 3.11), so the pool never has to queue.
        self._turns = asyncio.Semaphore(size)
        self._pool: asyncpg.Pool | None = None
        self._opening = asyncio.Lock()

    async def _ready(self) -> asyncpg.Pool:
        if self._pool is None:
            async with self._opening:
                if self._pool is None:
                    self._pool = await asyncpg.create_pool(
                        min_size=0,
                        max_size=self._size,
                        reset=_keep_session,
                        **self._options,
                    )
        return self._pool

    async def fetch(self, read: "CompiledRead", parameters: dict[str, Any]) -> Sequence[Any]:
        arguments = read.arguments(parameters)
        pool = await self._ready()
        for attempt in (1, 2):
            await self._turn()
            try:
                async with pool.acquire() as connection:
                    try:
                        return read.rows(await connection.fetch(read.sql, *arguments))
                    except Exception:
                        # what a dropped connection raises varies with where the read was (an
                        # OSError, an InterfaceError, an InternalClientError mid-protocol);
                        # that the connection is closed after it does not
                        if attempt == 2 or not _dropped(connection):
                            raise
            finally:
                self._turns.release()
            # A server that dropped one connection (a restart, a failover) dropped the idle
            # ones too, though the loop may not have seen it yet: replace them all, as
            # SQLAlchemy invalidates its pool on a disconnect, or the retry could draw another.
            await pool.expire_connections()
        raise AssertionError("the second attempt returns or raises")

    async def _turn(self) -> None:
        """Wait for a connection of our own, in arrival order. Only a read that has to wait
        is bounded (a timer armed and cancelled per read was a twentieth of its CPU); opening
        a connection has the connect timeout of its own."""
        if not self._turns.locked():
            await self._turns.acquire()  # at once: no waiting reader, a connection free
            return
        async with asyncio.timeout(READ_POOL_TIMEOUT):
            await self._turns.acquire()

    @property
    def full(self) -> bool:
        """Whether a read arriving now would wait: every connection taken, or readers queued."""
        return self._turns.locked()

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None


def postgres_read_pool(engine: AsyncEngine) -> PostgresReadPool | None:
    if engine.url.get_backend_name() != "postgresql":
        return None
    return PostgresReadPool(engine)


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
        # The main engine's page cache: at SQLite's 2 MB default a list page missed it for
        # most of its rows and read each from the OS, twice the time of the query itself.
        cursor.execute(f"PRAGMA cache_size={SQLITE_CACHE_SIZE}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "engine_disposed")
    def _dispose_direct(_engine: Any) -> None:
        direct.dispose()

    return direct


class CompiledRead:
    """One hot read compiled once for a dialect and run on its driver's own connection.

    SQLAlchemy's Core execution (context set-up, result metadata, a Row per row) cost about
    twice the query itself on a list page; the compiled SQL, its bound values made by the
    columns' own types, and the driver's rows back keep the query the only cost. Rows come
    back as named tuples, each value through its column type's result processor when it has
    one (``UtcDateTime``'s UTC, for instance).
    """

    def __init__(self, dialect: Dialect, statement: Any, *, named: bool = True) -> None:
        self.named = named
        compiled = statement.compile(dialect=dialect)
        self.compiled = compiled
        self.sql = str(compiled)
        names: list[str] = list(compiled.positiontup or ())
        self.binds = [
            (name, compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect))
            for name in names
        ]
        columns = list(statement.selected_columns)
        self.row_type: Any = collections.namedtuple(  # type: ignore[misc]
            "Row", [column.key for column in columns]
        )
        self.processors = [
            column.type.dialect_impl(dialect).result_processor(dialect, None) for column in columns
        ]
        self._converts = any(process is not None for process in self.processors)

    def arguments(self, parameters: dict[str, Any]) -> tuple[Any, ...]:
        values = self.compiled.construct_params(parameters)
        return tuple(
            process(values[name]) if process is not None else values[name]
            for name, process in self.binds
        )

    def rows(self, found: Sequence[Sequence[Any]]) -> Sequence[Any]:
        """The driver's rows as named tuples of converted values; as they are (indexed and
        unpacked only) when the read was compiled ``named=False`` and nothing needs converting:
        a list page's 50 rows, where building tuples again showed in profiles."""
        if not self._converts and not self.named:
            return found
        make = self.row_type._make
        if not self._converts:
            return [make(row) for row in found]
        processors = self.processors
        return [
            make(
                value if process is None else process(value)
                for process, value in zip(processors, row, strict=True)
            )
            for row in found
        ]

    def rows_on(self, engine: Engine, parameters: dict[str, Any]) -> Sequence[Any]:
        """On a synchronous engine's raw DBAPI connection (SQLite's direct reads)."""
        connection = engine.raw_connection()
        try:
            cursor = connection.cursor()
            try:
                cursor.execute(self.sql, self.arguments(parameters))
                return self.rows(cursor.fetchall())
            finally:
                cursor.close()
        finally:
            connection.close()


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
