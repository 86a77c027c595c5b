"""The schema: brings the database to the latest Alembic revision (safe when several processes
start at once), and the `db` commands: `flask --app run db upgrade`, `db revision "…"`."""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

import click
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy import Engine

from core.database import engine_of, make_engine
from core.demo import seed_demo_content

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"

log = logging.getLogger(__name__)


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = engine
    return config


def upgrade_to_latest(engine: Engine) -> None:
    command.upgrade(alembic_config(engine), "head")


def is_up_to_date(engine: Engine) -> bool:
    heads = set(ScriptDirectory.from_config(alembic_config(engine)).get_heads())
    with engine.connect() as connection:
        return set(MigrationContext.configure(connection).get_current_heads()) == heads


def new_revision(message: str) -> None:
    """Write a migration for what the models changed, compared against a fresh database.
    The models are those of the features the app was built with (every feature imports its
    own), so Alembic sees them without a list of its own."""
    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(f"sqlite:///{folder}/schema.sqlite3")
        upgrade_to_latest(engine)
        command.revision(alembic_config(engine), message=message, autogenerate=True)
        engine.dispose()


def prepare_database(app: Flask) -> None:
    """At start: migrate unless AMBULANTE_AUTO_MIGRATE=0, then seed the demo content when
    asked and the schema is current (otherwise `db upgrade` seeds it)."""
    if app.config["AUTO_MIGRATE"]:
        upgrade_and_seed(app)
    elif not is_up_to_date(engine_of(app)):
        log.warning("the database is not at the latest schema: run `flask --app run db upgrade`")
    elif app.config["SEED_DEMO"]:
        seed_demo_content(app)


def upgrade_and_seed(app: Flask) -> None:
    upgrade_to_latest(engine_of(app))
    if app.config["SEED_DEMO"]:
        seed_demo_content(app)


def register_commands(app: Flask) -> None:
    group = AppGroup("db", help="The database schema.")

    @group.command("upgrade")
    def upgrade() -> None:
        """Bring the database to the latest schema (and seed the demo content if asked)."""
        upgrade_and_seed(app)
        click.echo("The database is at the latest schema.")

    @group.command("revision")
    @click.argument("message")
    def revision(message: str) -> None:
        """Write a new migration from the models (read it before committing)."""
        new_revision(message)

    app.cli.add_command(group)
