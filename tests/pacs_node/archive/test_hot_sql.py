"""Hot statements on SQLite's cursor write exactly what Core writes, and fail the same."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from workstation.pacs_node.archive.database import make_engine, write_engine
from workstation.pacs_node.archive.hot_sql import HotStatement

metadata = sa.MetaData()
things = sa.Table(
    "things",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(32), unique=True, nullable=False),
    sa.Column("size", sa.Float, nullable=False),
    sa.Column("at", sa.DateTime, nullable=False),
    sa.Column("note", sa.String(32), nullable=False, default="none"),
)
INSERT = HotStatement(sa.insert(things))
BY_NAME = HotStatement(
    sa.select(things.c.id, things.c.name.label("label"), things.c.size).where(
        things.c.name == sa.bindparam("b_name")
    )
)
GROW = HotStatement(
    sa.update(things)
    .where(things.c.id == sa.bindparam("b_id"))
    .values(size=things.c.size + sa.bindparam("b_by"), at=sa.bindparam("b_at"))
)


@pytest.fixture
def engine(tmp_path: Path) -> sa.Engine:
    engine = make_engine(f"sqlite:///{tmp_path / 'hot.sqlite3'}")
    metadata.create_all(engine)
    return engine


def test_hot_rows_are_core_rows(engine: sa.Engine) -> None:
    at = dt.datetime(2026, 1, 2, 3, 4, 5)  # no microseconds: Core still writes ".000000"
    row = {"name": "a", "size": 1.5, "at": at, "note": "n"}
    with write_engine(engine).begin() as conn:
        hot_id = INSERT.insert_id(conn, row)
        core_id = conn.execute(sa.insert(things), {**row, "name": "b"}).inserted_primary_key[0]
        GROW.run(conn, {"b_id": hot_id, "b_by": 2.0, "b_at": at})
        conn.execute(
            sa.update(things).where(things.c.id == core_id).values(size=things.c.size + 2.0, at=at)
        )
        INSERT.run(conn, [{**row, "name": n} for n in ("c", "d")])  # executemany
        found = BY_NAME.first(conn, {"b_name": "a"})
        assert (found.id, found.label, found.size) == (hot_id, "a", 3.5)
        assert BY_NAME.first(conn, {"b_name": "nobody"}) is None
    with engine.connect() as conn:
        raw = conn.exec_driver_sql("SELECT name, size, at, note FROM things ORDER BY id").all()
        typed = conn.execute(sa.select(things.c.at)).scalars().all()
    assert [tuple(r)[1:] for r in raw[:2]] == [(3.5, "2026-01-02 03:04:05.000000", "n")] * 2
    assert [r[0] for r in raw] == ["a", "b", "c", "d"]
    assert typed == [at] * 4


def test_a_missing_default_goes_through_core(engine: sa.Engine) -> None:
    with write_engine(engine).begin() as conn:
        key = INSERT.insert_id(conn, {"name": "x", "size": 1.0, "at": dt.datetime(2026, 1, 1)})
        note = conn.execute(sa.select(things.c.note).where(things.c.id == key)).scalar_one()
    assert note == "none"  # Core filled in the column default


def test_driver_errors_are_sqlalchemy_errors(engine: sa.Engine) -> None:
    row = {"name": "same", "size": 1.0, "at": dt.datetime(2026, 1, 1), "note": ""}

    def insert_twice() -> None:
        with write_engine(engine).begin() as conn:
            INSERT.run(conn, row)
            INSERT.run(conn, row)

    with pytest.raises(IntegrityError):
        insert_twice()
    with engine.connect() as conn:  # the failed transaction left nothing behind
        assert conn.execute(sa.select(sa.func.count()).select_from(things)).scalar_one() == 0
