"""Fixtures only (helpers live in tests/factories.py): an app on a fresh database per test,
its client and CLI runner, a session, PostgreSQL when a test server is given."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from hypothesis import settings

from core.clock import today_local
from core.database import engine_of, session_for
from core.staff.models import Role
from media.storage import MEDIA_DIR
from run import create_app
from tests.factories import clear_ambulante_environment, sign_in, staff_account
from tests.servers import Server, SharedDatabase

TEST_DATABASE_URL = os.environ.get("AMBULANTE_TEST_DATABASE_URL")
# Under pytest-xdist each worker empties and fills a PostgreSQL database of its own.
XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER")
DATABASE_FILE = "ambulante.sqlite3"  # what the app makes in its data dir by default
TEST_CONFIG = {"TESTING": True, "RATELIMIT_BOOKING": "1000/minute"}

# The property tests: a quick look on a laptop, the full search in CI (CI=true).
settings.register_profile(
    "ci", max_examples=75, stateful_step_count=25, deadline=None, report_multiple_bugs=False
)
settings.register_profile(
    "dev", max_examples=15, stateful_step_count=25, deadline=None, report_multiple_bugs=False
)
settings.load_profile(
    os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev")
)


@pytest.fixture(scope="session")
def template_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Migrated and seeded once per run; each test starts from a copy of it."""
    data_dir = tmp_path_factory.mktemp("template")
    app = create_app(
        {
            **TEST_CONFIG,
            "DATA_DIR": data_dir,
            "DATABASE_URL": f"sqlite:///{data_dir / DATABASE_FILE}",
        }
    )
    engine_of(app).dispose()  # the last connection closed checkpoints the WAL into the file
    return data_dir / DATABASE_FILE


@pytest.fixture
def app_config() -> dict[str, Any]:
    """What a module's tests want set on their app; override it in the module."""
    return {}


@pytest.fixture
def app(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    template_database: Path,
    app_config: dict[str, Any],
) -> Iterator[Flask]:
    clear_ambulante_environment(monkeypatch)
    data_dir = tmp_path / "data"
    data_dir.mkdir(mode=0o700)
    shutil.copyfile(template_database, data_dir / DATABASE_FILE)
    media_files = template_database.parent / MEDIA_DIR  # the demo portraits' files
    if media_files.is_dir():
        shutil.copytree(media_files, data_dir / MEDIA_DIR, copy_function=os.link)
    monkeypatch.setenv("AMBULANTE_DATA_DIR", str(data_dir))
    app = create_app({**TEST_CONFIG, **app_config, "AUTO_MIGRATE": False, "SEED_DEMO": False})
    yield app
    engine_of(app).dispose()


@pytest.fixture
def fresh_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Builds an app as a newcomer's first start does: migrating an empty data dir."""
    clear_ambulante_environment(monkeypatch)
    made: list[Flask] = []

    def build(**config: Any) -> Flask:
        monkeypatch.setenv("AMBULANTE_DATA_DIR", str(tmp_path / f"data{len(made)}"))
        made.append(create_app({**TEST_CONFIG, **config}))
        return made[-1]

    yield build
    for each in made:
        engine_of(each).dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


@pytest.fixture
def session(app: Flask) -> Iterator[Any]:
    """A session of the test's own, outside any request (like a staff script would have)."""
    with session_for(app) as db_session:
        yield db_session


@pytest.fixture
def today() -> dt.date:
    return today_local()


def _worker_database(base_url: str, worker: str) -> str:
    """The test database's sibling for one xdist worker (ambulante_test_gw0), made once;
    the test role may create databases (.ci/run makes it with CREATEDB)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    base = make_url(base_url)
    name = f"{base.database}_{worker}"
    engine = create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            exists = connection.scalar(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
            )
            if not exists:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        engine.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


@pytest.fixture
def postgres_url() -> str:
    """The test PostgreSQL database, emptied to a bare public schema; skips without one."""
    if not TEST_DATABASE_URL:
        pytest.skip("AMBULANTE_TEST_DATABASE_URL is not set")
    from sqlalchemy import create_engine, text

    url = _worker_database(TEST_DATABASE_URL, XDIST_WORKER) if XDIST_WORKER else TEST_DATABASE_URL

    # Bounded waits: a server left holding locks fails the test instead of hanging it.
    engine = create_engine(
        url, connect_args={"connect_timeout": 10, "options": "-c lock_timeout=10s"}
    )
    try:
        with engine.begin() as connection:
            # A server killed mid-request can leave its backend waiting on a lock (it only
            # notices its client is gone once it stops waiting): end such leftovers first.
            connection.execute(
                text(
                    "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND usename = current_user "
                    "AND pid <> pg_backend_pid()"
                )
            )
            # Drops the btree_gist extension too; the migration creates it again.
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
    finally:
        engine.dispose()
    return url


@pytest.fixture
def staff_client(app: Flask, session: Any) -> FlaskClient:
    """A client signed in as a staff member (not an administrator)."""
    client = app.test_client()
    sign_in(client, staff_account(session).email)
    return client


@pytest.fixture
def admin_client(app: Flask, session: Any) -> FlaskClient:
    """A client signed in as an administrator."""
    client = app.test_client()
    sign_in(client, staff_account(session, "admin@centre.example", Role.ADMIN).email)
    return client


SERVER_THREADS = 40  # enough for every request of a race to be handled at once


@pytest.fixture(params=["sqlite", "postgresql"])
def shared_database(request: pytest.FixtureRequest, tmp_path: Path) -> SharedDatabase:
    """One database for several app processes: SQLite in a data dir, or the test PostgreSQL."""
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    if request.param == "sqlite":
        # The file run.py makes in AMBULANTE_DATA_DIR when no database URL is given.
        return SharedDatabase(data_dir, f"sqlite:///{data_dir / DATABASE_FILE}", {})
    url = request.getfixturevalue("postgres_url")
    return SharedDatabase(data_dir, url, {"AMBULANTE_DATABASE_URL": url})


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator[Callable[[SharedDatabase, str], int]]:
    """Starts `python run.py` on the shared database and returns its port once /healthz
    answers; every process started is stopped when the test ends, whatever happened."""
    running: list[Server] = []

    def start(database: SharedDatabase, name: str) -> int:
        server = Server(
            tmp_path / f"server-{name}.log",
            threads=SERVER_THREADS,
            AMBULANTE_DATA_DIR=str(database.data_dir),
            AMBULANTE_BOOKING_RATE_LIMIT="10000/hour",
            **database.env,
        )
        running.append(server)
        return server.port

    yield start
    for server in running:
        server.stop()
