"""The database: declarative base, engine set-up per dialect, and the request-scoped session."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from flask import Flask, current_app, g
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

from core.data_dir import PRIVATE_FILE_MODE, keep_private

WRITE = "ambulante_write"
SQLITE_BUSY_TIMEOUT_MS = 30_000


class Base(DeclarativeBase):
    pass


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
        _serialize_sqlite_writes(engine)
        return engine
    return create_engine(url, pool_pre_ping=True)


def _serialize_sqlite_writes(engine: Engine) -> None:
    """pysqlite's own transaction handling is switched off so that a write transaction
    starts with BEGIN IMMEDIATE: it takes the write lock before reading, so two processes
    can never both read "free" and then both insert (SQLAlchemy's SQLite dialect recipe)."""

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, _record):  # type: ignore[no-untyped-def]
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")  # a commit survives a power cut too
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection):  # type: ignore[no-untyped-def]
        immediate = connection.get_execution_options().get(WRITE)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


# Contention that outlasted the waits: PostgreSQL's deadlock_detected, serialization_failure
# and lock_not_available, and SQLite's lock held past the busy timeout. Nothing was written.
CONTENTION_SQLSTATES = ("40P01", "40001", "55P03")
SQLITE_BUSY_MESSAGE = "database is locked"


def is_contention(error: DBAPIError) -> bool:
    """The statement lost to other writers at that moment; sending it again may succeed."""
    sqlstate = getattr(error.orig, "sqlstate", None)
    return sqlstate in CONTENTION_SQLSTATES or SQLITE_BUSY_MESSAGE in str(error.orig)


def insert_or_on_conflict(session: Session, table: Any) -> Any:
    """An INSERT into the table that may say what to do ON CONFLICT, in the dialect of the
    session's database (both SQLite and PostgreSQL spell it the same way)."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    return dialect.insert(table)


def begin_write(session: Session) -> None:
    """Make the session's transaction a write transaction.

    On SQLite it takes the database's write lock at once (other writers wait on the busy
    timeout). What the session was doing before is committed first: SQLite refuses to turn
    a read transaction into a write one under contention. Elsewhere a transaction already
    open simply goes on (one round trip fewer); the schema's constraints guard the writes."""
    if session.in_transaction():
        if session.get_bind().dialect.name != "sqlite":
            return
        session.commit()
    session.connection(execution_options={WRITE: True})


def _keep_sqlite_file_private(engine: Engine) -> None:
    """The database holds unions' contact details: readable by the app's user alone. SQLite
    gives its -wal and -shm files the database file's own mode."""
    path = engine.url.database
    if engine.dialect.name != "sqlite" or not path or path == ":memory:":
        return
    if not os.path.exists(path):  # made private before SQLite creates it with its own mode
        os.close(os.open(path, os.O_RDWR | os.O_CREAT, PRIVATE_FILE_MODE))
    keep_private(Path(path), PRIVATE_FILE_MODE)


def init_app(app: Flask) -> None:
    engine = make_engine(app.config["DATABASE_URL"])
    _keep_sqlite_file_private(engine)
    app.extensions["ambulante_sessionmaker"] = sessionmaker(engine, expire_on_commit=False)
    app.extensions["ambulante_engine"] = engine
    # Closed after each request, and after any app context used outside requests.
    app.teardown_request(_close_session)
    app.teardown_appcontext(_close_session)


def engine_of(app: Flask) -> Engine:
    return app.extensions["ambulante_engine"]


def get_session() -> Session:
    """The session of the current request (or app context), opened on first use."""
    if "db_session" not in g:
        g.db_session = current_app.extensions["ambulante_sessionmaker"]()
    return g.db_session


@contextmanager
def session_for(app: Flask) -> Iterator[Session]:
    """A session outside any request (start-up, commands, benchmarks)."""
    with app.extensions["ambulante_sessionmaker"]() as session:
        yield session


def _close_session(_exc: BaseException | None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()


def database_answers(session: Session) -> bool:
    try:
        session.execute(text("SELECT 1"))
        return True
    except Exception:  # noqa: BLE001 - any failure means "not healthy"
        session.rollback()
        return False
