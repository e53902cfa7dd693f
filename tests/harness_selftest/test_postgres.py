from __future__ import annotations

import pytest


@pytest.mark.postgres
def test_postgres_serves_fresh_databases(postgres) -> None:  # type: ignore[no-untyped-def]
    import sqlalchemy as sa

    a, b = postgres.new_database(), postgres.new_database()
    assert a != b
    engine = sa.create_engine(a)
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE t (x int)"))
        conn.execute(sa.text("INSERT INTO t VALUES (41), (1)"))
        assert conn.execute(sa.text("SELECT sum(x) FROM t")).scalar() == 42
    engine.dispose()
    assert postgres.host == "127.0.0.1"
