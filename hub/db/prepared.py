"""Statements of the hub's hot path, compiled once per dialect and run on the DBAPI cursor.

SQLAlchemy's execution layer costs ~40 µs a statement here, about ten times what
SQLite itself takes; a ticket runs eight statements. These are the same Core
statements (so SQLite and PostgreSQL both work and the schema is defined once),
compiled once, with SQLAlchemy's own type processors applied to parameters and
run inside the caller's transaction on its connection.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Connection
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler


@dataclass(frozen=True)
class _Compiled:
    sql: str
    names: Sequence[str]
    positional: bool
    processors: Mapping[str, Callable[[Any], Any]]
    literals: Mapping[str, Any]  # values written into the statement, e.g. the 1 in `seq + 1`


class Prepared:
    """One Core statement, run cheaply: `Prepared(select(...)).all(conn, {"b_x": 1})`."""

    def __init__(self, statement: ClauseElement) -> None:
        self.statement = statement
        self._by_dialect: dict[str, _Compiled] = {}
        # per column: e.g. SQLite text -> datetime, PostgreSQL numeric -> float; known once
        # the first cursor has described its columns (PostgreSQL's depend on their type)
        self._results: dict[str, Sequence[Callable[[Any], Any] | None]] = {}

    def _compiled(self, dialect: Dialect) -> _Compiled:
        found = self._by_dialect.get(dialect.name)
        if found is None:
            c = cast(SQLCompiler, self.statement.compile(dialect=dialect))
            if "POSTCOMPILE" in c.string:
                raise ValueError("IN (…) with an expanding list cannot be prepared: "
                                 f"{c.string[:120]}")
            processors = {}
            literals = {n: b.value for n, b in c.binds.items() if not b.required}
            for name, bind in c.binds.items():
                proc = bind.type.dialect_impl(dialect).bind_processor(dialect)
                if proc is not None:
                    processors[name] = proc
            names = list(c.positiontup or []) if c.positional else list(c.binds)
            found = _Compiled(c.string, names, c.positional, processors, literals)
            self._by_dialect[dialect.name] = found
        return found

    def run(self, conn: Connection, params: Mapping[str, Any]) -> Any:
        """Execute and return the DBAPI cursor."""
        c = self._compiled(conn.dialect)
        values = {k: (c.processors[k](v) if k in c.processors else v)
                  for k, v in {**c.literals, **params}.items()}
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        driver_error = conn.dialect.loaded_dbapi.Error
        try:
            cursor.execute(c.sql, [values[n] for n in c.names] if c.positional else values)
        except driver_error as exc:  # as SQLAlchemy raises it (the hub acts on OperationalError:
            raise DBAPIError.instance(  # a full disk, a lock), not the driver's own class
                c.sql, values, exc, driver_error, dialect=conn.dialect) from exc
        return cursor

    def _processors(self, dialect: Dialect, cursor: Any) -> Sequence[Callable[[Any], Any] | None]:
        found = self._results.get(dialect.name)
        if found is None:
            columns = getattr(self.statement, "exported_columns", ())
            found = [col.type.dialect_impl(dialect).result_processor(dialect, described[1])
                     for col, described in zip(columns, cursor.description, strict=True)]
            self._results[dialect.name] = found
        return found

    def one_or_none(self, conn: Connection, params: Mapping[str, Any]) -> tuple[Any, ...] | None:
        """The first row as a plain tuple of Python values, or None."""
        cursor = self.run(conn, params)
        row = cursor.fetchone()
        if row is None:
            return None
        results = self._processors(conn.dialect, cursor)
        return tuple(p(v) if p else v for p, v in zip(results, row, strict=True))

    def all(self, conn: Connection, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """Every row as plain tuples of Python values."""
        cursor = self.run(conn, params)
        rows = cursor.fetchall()
        results = self._processors(conn.dialect, cursor)
        return [tuple(p(v) if p else v for p, v in zip(results, row, strict=True))
                for row in rows]

    def scalar(self, conn: Connection, params: Mapping[str, Any]) -> Any:
        """The first column of the first row, or None."""
        row = self.one_or_none(conn, params)
        return row[0] if row is not None else None
