"""Alembic environment: migrations run on the connection dialback hands over."""

from __future__ import annotations

from alembic import context

from dialback.store.tables import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # the alembic command line: use the URL it was given
    from sqlalchemy import create_engine

    url = context.config.get_main_option("sqlalchemy.url")
    assert url, "set sqlalchemy.url or hand over a connection"
    with create_engine(url).connect() as connection:
        context.configure(connection=connection, target_metadata=metadata)
        with context.begin_transaction():
            context.run_migrations()
else:
    context.configure(connection=connection, target_metadata=metadata)
    with context.begin_transaction():
        context.run_migrations()
