"""Alembic environment: runs migrations in one write transaction, one process at a time.

The tables are those on Base.metadata: every feature imports its own models, and the app
(or the caller of core.migrate) has imported the features before migrating."""

from alembic import context
from sqlalchemy import text

import core.models  # noqa: F401 - the shell's own tables
from core.database import WRITE, Base, make_engine

MIGRATION_LOCK_KEY = 4_242_001


def run_migrations_online() -> None:
    config = context.config
    engine = config.attributes.get("engine") or make_engine(
        config.get_main_option("sqlalchemy.url")
    )
    # On SQLite WRITE makes the transaction BEGIN IMMEDIATE; on PostgreSQL an advisory
    # lock does the same job, so processes starting together migrate one after the other.
    with engine.connect().execution_options(**{WRITE: True}) as connection, connection.begin():
        if connection.dialect.name == "postgresql":
            connection.execute(text(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK_KEY})"))
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            transactional_ddl=True,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        context.run_migrations()


run_migrations_online()
