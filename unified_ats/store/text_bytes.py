"""A text column read as its UTF-8 bytes: what an HTTP body is made of.

A list page joins fifty stored JSON texts into one body. Read as text, each is decoded from
UTF-8 by the driver, and the joined page is encoded back to UTF-8 by the response: two passes
over ~35 kB, and with accented names (not ASCII) the encoding alone was 5 % of a list
request's CPU (py-spy). Read as bytes, the page is joined as bytes and sent as it is.

SQLite's ``CAST(… AS BLOB)`` and PostgreSQL's ``convert_to(…, 'UTF8')`` both give the text's
UTF-8 bytes (SQLite stores UTF-8; PostgreSQL converts from the database's encoding).
"""

from typing import Any

from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import UserDefinedType


class _DriverBytes(UserDefinedType[bytes]):
    """Bytes as the driver returns them (``bytes`` from sqlite3 and asyncpg): no result
    processor, so a compiled read hands rows over untouched (see ``CompiledRead``)."""

    cache_ok = True

    def get_col_spec(self, **_kw: Any) -> str:
        return "BLOB"


class utf8_bytes(FunctionElement[bytes]):  # lower case: a SQL function, named as SQL names them
    """``utf8_bytes(column)``: the column's text as UTF-8 bytes."""

    type = _DriverBytes()
    inherit_cache = True
    name = "utf8_bytes"


@compiles(utf8_bytes, "sqlite")
def _sqlite(element: utf8_bytes, compiler: SQLCompiler, **kw: Any) -> str:
    return f"CAST({compiler.process(element.clauses, **kw)} AS BLOB)"


@compiles(utf8_bytes, "postgresql")
def _postgresql(element: utf8_bytes, compiler: SQLCompiler, **kw: Any) -> str:
    return f"convert_to({compiler.process(element.clauses, **kw)}, 'UTF8')"
