"""The migrations build exactly the tables of ``store/`` (``tables.py``, whose lengths follow
``domain/limits.py``, and the snapshot and lease tables that ``snapshots.py`` and ``leases.py``
declare on the same metadata), on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from dialback.store import leases, snapshots
from dialback.store.db import connect, migrate
from dialback.store.tables import metadata

DECLARED_ELSEWHERE = (leases, snapshots)  # imported for the tables they add to ``metadata``


def test_the_migrated_schema_is_the_declared_one(database: str) -> None:
    engine = connect(database)
    try:
        migrate(engine)
        with engine.connect() as c:
            context = MigrationContext.configure(c, opts={"compare_type": True})
            assert compare_metadata(context, metadata) == []
    finally:
        engine.dispose()
