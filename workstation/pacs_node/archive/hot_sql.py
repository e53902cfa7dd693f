"""The index statements every stored instance runs, executed on SQLite's own cursor.

For a small INSERT or UPDATE, SQLAlchemy's per-execution work (parameter processing,
default handling, result set-up, events) costs several times what SQLite spends running
it, and a C-STORE runs half a dozen of them per instance.  :class:`HotStatement` keeps
the statement in its Core form - the one definition - compiles it once per dialect and
set of parameter names, and on SQLite runs the compiled SQL on the DBAPI connection of
the same SQLAlchemy connection (so: the same transaction), with the column types' bind
processors applied (a ``DateTime`` is written exactly as Core writes it).  Anything the
plain path cannot do the same way - a column default to fill in, a result type to
convert, another dialect - goes through ``Connection.execute`` as before.  DBAPI errors
come back as SQLAlchemy's exception classes (an ``IntegrityError`` stays one).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.compiler import SQLCompiler

Params = Mapping[str, Any]


@dataclass(frozen=True)
class _Plan:
    sql: str
    names: tuple[str, ...]
    processors: tuple[Callable[[Any], Any] | None, ...]
    columns: tuple[str, ...]

    def args(self, params: Params) -> tuple[Any, ...]:
        return tuple(
            params[name] if proc is None else proc(params[name])
            for name, proc in zip(self.names, self.processors, strict=True)
        )


class _Row:
    """A result row with attribute access, like SQLAlchemy's."""

    __slots__ = ("_index", "_values")

    def __init__(self, values: Sequence[Any], index: Mapping[str, int]) -> None:
        self._values = values
        self._index = index

    def __getattr__(self, name: str) -> Any:
        try:
            return self._values[self._index[name]]
        except KeyError:
            raise AttributeError(name) from None


class HotStatement:
    """A prebuilt Core statement that SQLite runs on the DBAPI cursor (see module doc)."""

    def __init__(self, stmt: Any) -> None:
        #: The Core statement (an Insert, Update or Select built once at import).
        self.stmt = stmt
        self._plans: dict[tuple[str, ...], _Plan | None] = {}
        self._lock = threading.Lock()

    # -- the three uses ------------------------------------------------------------------
    def run(self, conn: Connection, params: Params | Sequence[Params]) -> None:
        """Execute for one parameter set or many (executemany)."""
        many: list[Params] = [] if isinstance(params, Mapping) else list(params)
        if isinstance(params, Mapping):
            many = [params]
        elif not many:
            return
        plan = self._plan(conn, many[0])
        if plan is None:
            conn.execute(self.stmt, params)
            return
        raw = _dbapi(conn)
        if len(many) == 1:
            args = plan.args(many[0])
            self._guard(conn, plan, lambda: raw.execute(plan.sql, args))
        else:
            rows = [plan.args(p) for p in many]
            self._guard(conn, plan, lambda: raw.executemany(plan.sql, rows))

    def insert_id(self, conn: Connection, params: Params) -> int:
        """Execute a one-row INSERT; the new row's integer primary key."""
        plan = self._plan(conn, params)
        if plan is None:
            key = conn.execute(self.stmt, params).inserted_primary_key
            assert key is not None
            return int(key[0])
        raw = _dbapi(conn)
        args = plan.args(params)
        cursor = self._guard(conn, plan, lambda: raw.execute(plan.sql, args))
        return int(cursor.lastrowid)

    def first(self, conn: Connection, params: Params) -> Any:
        """Execute a SELECT; its first row (attribute access by column name) or None."""
        plan = self._plan(conn, params)
        if plan is None:
            return conn.execute(self.stmt, params).first()
        raw = _dbapi(conn)
        args = plan.args(params)
        cursor = self._guard(conn, plan, lambda: raw.execute(plan.sql, args))
        values = cursor.fetchone()
        cursor.close()
        if values is None:
            return None
        return _Row(values, {name: i for i, name in enumerate(plan.columns)})

    # -- compiling -----------------------------------------------------------------------
    def _plan(self, conn: Connection, params: Params) -> _Plan | None:
        if conn.dialect.name != "sqlite":
            return None
        key = tuple(sorted(params))
        try:
            return self._plans[key]
        except KeyError:
            pass
        with self._lock:
            if key not in self._plans:
                self._plans[key] = _compile(self.stmt, conn, list(key))
            return self._plans[key]

    @staticmethod
    def _guard(conn: Connection, plan: _Plan, call: Callable[[], Any]) -> Any:
        dbapi_module = conn.dialect.loaded_dbapi
        try:
            return call()
        except dbapi_module.Error as exc:
            raise DBAPIError.instance(
                plan.sql, None, exc, dbapi_module.Error, dialect=conn.dialect
            ) from exc


def _dbapi(conn: Connection) -> Any:
    return conn.connection.dbapi_connection


def _compile(stmt: Any, conn: Connection, keys: list[str]) -> _Plan | None:
    """The plain SQL and parameter order, or None when Core must run it (see module doc)."""
    dialect = conn.dialect
    compiled = stmt.compile(dialect=dialect, column_keys=keys)
    if not isinstance(compiled, SQLCompiler):
        return None
    if not compiled.positional or compiled.positiontup is None:
        return None
    # Column defaults SQLAlchemy would compute in Python, or rows it would return.
    # ("postfetch" columns - e.g. ``n = n + ?`` - only matter to the ORM.)
    if getattr(compiled, "insert_prefetch", None) or getattr(compiled, "update_prefetch", None):
        return None
    if getattr(compiled, "returning", None):
        return None
    names = tuple(compiled.positiontup)
    if any(name not in keys for name in names):
        return None
    processors = tuple(
        compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect) for name in names
    )
    columns: tuple[str, ...] = ()
    selected = getattr(stmt, "selected_columns", None)
    if selected is not None:
        for column in selected:
            if column.type.dialect_impl(dialect).result_processor(dialect, None) is not None:
                return None
        columns = tuple(column.key for column in selected)
    return _Plan(compiled.string, names, processors, columns)
