"""The test script's last resort for PostgreSQL: a throwaway cluster (issue 4).

A fresh machine without a server on 127.0.0.1:5432 gets one from ``initdb``/``pg_ctl`` in a
temporary folder. This machine always has a server there, so this test takes the fallback path on
purpose, to prove it works where it is needed.
"""

from __future__ import annotations

import psycopg
import pytest

from . import postgres
from .conftest import IN_CI


def test_throwaway_cluster_serves_a_fresh_database() -> None:
    url = postgres._throwaway()
    if url is None:
        message = "NO initdb/pg_ctl and cannot install postgresql: throwaway cluster SKIPPED"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    assert url.startswith("postgresql://postgres@127.0.0.1:")
    assert not url.startswith(postgres.LOCAL.rsplit("/", 1)[0]), "it must be its own cluster"
    with postgres.fresh_database(url) as database:
        with psycopg.connect(database) as c:
            c.execute("CREATE TABLE t (x int)")
            c.execute("INSERT INTO t VALUES (41), (1)")
            total = c.execute("SELECT sum(x) FROM t").fetchone()
        assert total == (42,)
    with psycopg.connect(url) as c:
        names = c.execute("SELECT datname FROM pg_database").fetchall()
    assert (database.rsplit("/", 1)[1],) not in names, "the per-test database is dropped"
