"""Complete rows sent straight to the driver: an INSERT compiled once per dialect, then one
``executemany`` of plain tuples.

A sync writes every record a vendor holds. SQLAlchemy's Core ``executemany`` builds a
parameter dict per row and runs every value through its column type's processor, and on a
Flatchr page that cost as much as mapping the vendor's JSON. Here the caller gives rows as
tuples in its own column order; values shared by the whole batch (the connection, the run's
clock) are processed once; only the columns whose type converts something run their
processor per row; and the driver receives the statement text and the tuples.

The conversions are the columns' own (``TypeEngine.bind_processor`` for the dialect), so
what lands in the table is what the ORM would have written.
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Dialect, Table
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import Insert

Processor = Callable[[Any], Any]


@dataclass(frozen=True)
class _Compiled:
    sql: str
    varying: tuple[tuple[int, Processor | None], ...]
    """For each varying column, in the row's order: its position in the statement and its
    processor (None: the driver takes the value as it is)."""
    shared: tuple[tuple[int, Processor | None], ...]
    """For each shared column, in ``RowInsert.shared``'s order: position and processor."""
    defaults: tuple[tuple[int, Any], ...]
    """Columns no row gives a value for: their position and processed default."""
    width: int


class RowInsert:
    """``INSERT INTO table (columns…)`` for rows whose values vary per row in ``varying``
    (each row a tuple in that order) and share the values of ``shared`` (given per batch).
    ``skip_existing``: a row that conflicts with a unique key is left out, not an error."""

    def __init__(
        self,
        table: Table,
        varying: Sequence[str],
        shared: Sequence[str] = (),
        *,
        skip_existing: bool = False,
    ) -> None:
        self.table = table
        self.varying = tuple(varying)
        self.shared = tuple(shared)
        self.skip_existing = skip_existing
        self._compiled: dict[str, _Compiled] = {}

    def _statement(self, dialect: Dialect) -> Insert:
        if not self.skip_existing:
            return self.table.insert()
        if dialect.name == "postgresql":
            return postgresql_insert(self.table).on_conflict_do_nothing()
        if dialect.name == "sqlite":
            return sqlite_insert(self.table).on_conflict_do_nothing()
        raise NotImplementedError(f"no skip-existing insert for {dialect.name}")

    def compiled_for(self, dialect: Dialect) -> _Compiled:
        found = self._compiled.get(dialect.name)
        if found is not None:
            return found
        names = [*self.varying, *self.shared]
        compiled = self._statement(dialect).compile(dialect=dialect, column_keys=names)
        order = list(compiled.positiontup or ())
        column = self.table.c
        # Columns left out get their scalar default, as the ORM would give them.
        defaults: dict[str, Any] = {}
        for name in order:
            if name in names:
                continue
            default = column[name].default
            if default is None or not getattr(default, "is_scalar", False):
                raise ValueError(f"{self.table.name}.{name} has no value and no scalar default")
            value = getattr(default, "arg")  # noqa: B009 - a ScalarElementColumnDefault
            process = column[name].type.bind_processor(dialect)
            defaults[name] = process(value) if process is not None else value
        missing = [name for name in names if name not in order]
        if missing:
            raise ValueError(f"{self.table.name}: the statement does not bind {missing}")
        found = _Compiled(
            sql=str(compiled),
            varying=tuple(
                (order.index(name), column[name].type.bind_processor(dialect))
                for name in self.varying
            ),
            shared=tuple(
                (order.index(name), column[name].type.bind_processor(dialect))
                for name in self.shared
            ),
            defaults=tuple((order.index(name), value) for name, value in defaults.items()),
            width=len(order),
        )
        self._compiled[dialect.name] = found
        return found

    def parameters(
        self, dialect: Dialect, rows: Sequence[Sequence[Any]], shared: Mapping[str, Any]
    ) -> list[tuple[Any, ...]]:
        """The driver's parameter tuples for ``rows`` (exposed for tests)."""
        compiled = self.compiled_for(dialect)
        template: list[Any] = [None] * compiled.width
        for position, value in compiled.defaults:
            template[position] = value
        for name, (position, process) in zip(self.shared, compiled.shared, strict=True):
            value = shared[name]
            template[position] = process(value) if process is not None else value
        out: list[tuple[Any, ...]] = []
        slots = compiled.varying
        for row in rows:
            values = template.copy()
            for (position, process), value in zip(slots, row, strict=True):
                values[position] = value if process is None else process(value)
            out.append(tuple(values))
        return out

    async def execute(
        self,
        session: AsyncSession,
        rows: Sequence[Sequence[Any]],
        shared: Mapping[str, Any] | None = None,
    ) -> None:
        """Insert ``rows`` in the session's transaction (nothing when there are none)."""
        if not rows:
            return
        connection = await session.connection()
        parameters = self.parameters(connection.dialect, rows, shared or {})
        await connection.exec_driver_sql(self.compiled_for(connection.dialect).sql, parameters)
