"""The shell every feature stands on: a feature plugs in with one line, settings are read
without touching the disk, the schema is migrated on demand, each blueprint limits its bodies."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest
from sqlalchemy import inspect

import run
from core import settings
from core.app import build_app
from core.database import engine_of
from core.web import BODY_LIMITS

TINY_FEATURE = '''
"""A feature written by a test: one page, one navigation entry."""

from flask import Blueprint, render_template_string
from core.frame import add_navigation

blueprint = Blueprint("reading_room", __name__)


@blueprint.get("/reading-room")
def reading_room():
    page = '{% extends "base.html" %}{% block content %}<h1>Reading room</h1>{% endblock %}'
    return render_template_string(page)


def init_app(app):
    app.register_blueprint(blueprint)
    add_navigation(app, "reading_room.reading_room", "Reading room")
'''


@pytest.fixture
def tiny_feature(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    package = tmp_path / "packages" / "reading_room"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(textwrap.dedent(TINY_FEATURE))
    monkeypatch.syspath_prepend(str(package.parent))
    import reading_room

    yield reading_room
    sys.modules.pop("reading_room", None)


def test_a_new_feature_plugs_in_with_one_line_and_shows_in_the_navigation(tiny_feature, fresh_app):
    app = fresh_app()  # run.create_app: the features the composition root lists
    assert "/reading-room" not in app.test_client().get("/").get_data(as_text=True)

    # The one line: the composition root's list, plus the new package.
    app = build_app((*run.FEATURES, tiny_feature), {"TESTING": True})
    client = app.test_client()
    assert "<h1>Reading room</h1>" in client.get("/reading-room").get_data(as_text=True)
    for page in ("/", "/offerings/expo-interieure"):
        assert 'href="/reading-room">Reading room</a>' in client.get(page).get_data(as_text=True)
    here = client.get("/reading-room").get_data(as_text=True)
    assert 'href="/reading-room" aria-current="page">Reading room</a>' in here
    engine_of(app).dispose()


def test_reading_the_settings_writes_nothing(tmp_path: Path):
    data_dir = tmp_path / "not-yet"
    config = settings.from_environment({"AMBULANTE_DATA_DIR": str(data_dir)})
    assert config["DATA_DIR"] == data_dir
    assert config["SECRET_KEY"] is None
    assert not data_dir.exists()


def test_the_first_start_makes_a_private_data_dir_with_its_key(fresh_app):
    app = fresh_app()
    data_dir = app.config["DATA_DIR"]
    assert data_dir.stat().st_mode & 0o077 == 0
    key_file = data_dir / "secret_key"
    assert key_file.stat().st_mode & 0o077 == 0
    assert app.config["SECRET_KEY"] == key_file.read_text().strip()


def test_without_auto_migrate_the_database_waits_for_db_upgrade(fresh_app):
    app = fresh_app(AUTO_MIGRATE=False)
    assert "offerings" not in inspect(engine_of(app)).get_table_names()

    result = app.test_cli_runner().invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert "latest schema" in result.output
    # The demo content comes with the schema, as on a first start.
    page = app.test_client().get("/", headers={"Accept-Language": "en"})
    assert "indoor set" in page.get_data(as_text=True)


def test_each_blueprint_has_its_own_body_limit(app, client):
    assert app.extensions[BODY_LIMITS]["api"] < app.config["MAX_CONTENT_LENGTH"]
    just_over = app.extensions[BODY_LIMITS]["api"] + 1
    response = client.post(
        "/api/v1/bookings",
        data=b"{" + b" " * just_over + b"}",
        content_type="application/json",
        headers={"Accept-Language": "en"},
    )
    assert response.status_code == 413
    assert response.get_json()["error"] == "What you sent is too large."
