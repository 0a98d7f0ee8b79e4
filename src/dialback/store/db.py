"""Connecting to the database and migrating it (SQLite by default, PostgreSQL in production)."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Engine

MIGRATIONS = Path(__file__).parent / "migrations"


def database_url(db: str) -> str:
    """``postgresql://…`` (psycopg 3 is used), ``sqlite:///…``, or a plain path to a SQLite
    file."""
    if db.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + db.split("://", 1)[1]
    if "://" in db:
        return db
    return f"sqlite:///{db}"


def connect(db: str) -> Engine:
    url = database_url(db)
    if url.startswith("sqlite"):
        engine = sa.create_engine(url, connect_args={"check_same_thread": False})

        @sa.event.listens_for(engine, "connect")
        def _pragmas(connection: object, _record: object) -> None:
            cursor = connection.cursor()  # type: ignore[attr-defined]
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA busy_timeout=5000")
            cursor.close()

        return engine
    return sa.create_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision (``dialback migrate``; also run at start)."""
    config = alembic_config()
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":  # nodes starting together: one at a time
            connection.execute(sa.text("SELECT pg_advisory_xact_lock(7417)"))  # issue 17
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
