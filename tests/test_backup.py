"""`backup PATH` and `restore PATH`, as the person keeping the centre's server runs them: one
private archive taken while the app runs, brought back whole into a new data dir, and
refused wherever it could lose something."""

from __future__ import annotations

import io
import json
import sqlite3
import tarfile
import time
from pathlib import Path
from typing import Any
from unittest.mock import ANY

import pytest
from sqlalchemy import inspect, make_url, text

from core.backup import sqlite_file
from core.database import engine_of
from run import create_app
from tests.conftest import TEST_CONFIG
from tests.factories import days_from_today, form_data, post_form, sign_in, staff_account


def requests_sent(client, count: int = 2) -> None:
    """Unions' requests through the form: bookings, messages in the outbox, .eml copies."""
    for number in range(count):
        start = days_from_today(60 + 10 * number)
        response = post_form(client, "/book/expo-interieure", form_data(start=start))
        assert response.status_code == 303


def every_row(app) -> dict[str, list[tuple]]:
    with engine_of(app).connect() as connection:
        return {
            table: connection.execute(text(f'SELECT * FROM "{table}" ORDER BY 1')).all()
            for table in inspect(connection).get_table_names()
        }


def files_of(data_dir: Path) -> dict[str, bytes]:
    """The data dir's files other than the live database."""
    return {
        path.relative_to(data_dir).as_posix(): path.read_bytes()
        for path in sorted(data_dir.rglob("*"))
        if path.is_file() and not path.name.startswith("ambulante.sqlite3")
    }


def database_in(archive: Path, into: Path) -> sqlite3.Connection:
    with tarfile.open(archive) as opened:
        into.write_bytes(opened.extractfile("database.sqlite3").read())
    return sqlite3.connect(into)


def test_staff_get_every_booking_account_and_message_back_in_a_new_data_dir(
    app, client, session, runner, fresh_app, tmp_path, monkeypatch
):
    requests_sent(client)
    staff_account(session)
    before, files_before = every_row(app), files_of(app.config["DATA_DIR"])
    archive = tmp_path / "ambulante.tar.gz"

    made = runner.invoke(args=["backup", str(archive)])
    new = fresh_app(SEED_DEMO=False)
    restored = new.test_cli_runner().invoke(args=["restore", str(archive)])

    assert made.exit_code == 0, made.output
    assert "bookings: 2" in made.output and "outbox_messages: 4" in made.output
    assert restored.exit_code == 0, restored.output
    assert "bookings: 2, " in restored.output and "staff_users: 1" in restored.output
    assert every_row(new) == before
    assert len(before["bookings"]) == 2 and len(before["outbox_messages"]) == 4
    new_dir = Path(new.config["DATA_DIR"])
    assert files_of(new_dir) == files_before  # the secret key and the outbox copies
    assert "outbox/000001.eml" in files_before
    # The app started on the restored data dir signs cookies with the old key, and the
    # staff member signs in as before.
    monkeypatch.setenv("AMBULANTE_DATA_DIR", str(new_dir))
    again = create_app({**TEST_CONFIG, "SEED_DEMO": False})
    try:
        assert again.config["SECRET_KEY"] == app.config["SECRET_KEY"]
        assert sign_in(again.test_client(), "marie@centre.example").status_code == 303
    finally:
        engine_of(again).dispose()


def test_restore_into_a_new_install_with_its_demo_content(app, client, runner, fresh_app, tmp_path):
    requests_sent(client, 1)
    archive = tmp_path / "ambulante.tar.gz"
    runner.invoke(args=["backup", str(archive)])
    new = fresh_app()  # a first start seeds the demo offerings: nothing of anyone's

    restored = new.test_cli_runner().invoke(args=["restore", str(archive)])

    assert restored.exit_code == 0, restored.output
    assert every_row(new)["bookings"] == every_row(app)["bookings"]


def test_restored_files_are_private_to_the_apps_user(app, client, runner, fresh_app, tmp_path):
    requests_sent(client, 1)
    archive = tmp_path / "ambulante.tar.gz"
    runner.invoke(args=["backup", str(archive)])
    new = fresh_app(SEED_DEMO=False)
    new.test_cli_runner().invoke(args=["restore", str(archive)])

    new_dir = Path(new.config["DATA_DIR"])
    assert (new_dir / "secret_key").stat().st_mode & 0o777 == 0o600
    assert (new_dir / "outbox").stat().st_mode & 0o777 == 0o700
    assert (new_dir / "outbox" / "000001.eml").stat().st_mode & 0o777 == 0o600
    assert (new_dir / "ambulante.sqlite3").stat().st_mode & 0o777 == 0o600


def test_restore_into_a_data_dir_with_bookings_is_refused_and_changes_nothing(
    app, client, runner, tmp_path
):
    requests_sent(client, 1)
    archive = tmp_path / "ambulante.tar.gz"
    runner.invoke(args=["backup", str(archive)])
    requests_sent(client, 1)  # a second booking since the backup, that a restore would lose
    before, files_before = every_row(app), files_of(app.config["DATA_DIR"])

    refused = runner.invoke(args=["restore", str(archive)])

    assert refused.exit_code == 1
    assert "already holds data" in refused.output and "bookings: 2" in refused.output
    assert every_row(app) == before
    assert files_of(app.config["DATA_DIR"]) == files_before


def test_restore_into_a_data_dir_holding_other_files_is_refused(app, client, runner, tmp_path):
    requests_sent(client, 1)
    archive = tmp_path / "ambulante.tar.gz"
    runner.invoke(args=["backup", str(archive)])
    with engine_of(app).begin() as connection:  # the rows gone, a file of theirs left
        for table in ("outbox_messages", "audit_events", "bookings"):
            connection.execute(text(f"DELETE FROM {table}"))

    refused = runner.invoke(args=["restore", str(archive)])

    assert refused.exit_code == 1
    assert "is not empty" in refused.output and "outbox/000001.eml" in refused.output


def test_restore_is_refused_while_the_app_still_runs_on_the_data_dir(
    app, client, runner, fresh_app, tmp_path
):
    requests_sent(client, 1)
    archive = tmp_path / "ambulante.tar.gz"
    runner.invoke(args=["backup", str(archive)])
    new = fresh_app(SEED_DEMO=False)
    running = sqlite3.connect(sqlite_file(engine_of(new)))  # as a server's connection
    try:
        running.execute("SELECT COUNT(*) FROM bookings").fetchone()
        refused = new.test_cli_runner().invoke(args=["restore", str(archive)])
        bookings = running.execute("SELECT COUNT(*) FROM bookings").fetchone()[0]
    finally:
        running.close()

    assert refused.exit_code == 1 and "open in another process" in refused.output
    assert bookings == 0
    assert files_of(Path(new.config["DATA_DIR"])) == {"secret_key": ANY}


def test_backup_taken_while_a_request_is_being_written_holds_what_was_committed(
    app, client, runner, tmp_path
):
    requests_sent(client, 1)
    writer = sqlite3.connect(sqlite_file(engine_of(app)), isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # as a union's request holds the write lock
    writer.execute("UPDATE bookings SET organization = 'not committed yet'")
    archive = tmp_path / "ambulante.tar.gz"
    try:
        started = time.monotonic()
        made = runner.invoke(args=["backup", str(archive)])
        took = time.monotonic() - started
    finally:
        writer.execute("ROLLBACK")
        writer.close()

    assert made.exit_code == 0, made.output
    assert took < 10  # it did not wait for the writer (the busy timeout is 30 s)
    snapshot = database_in(archive, tmp_path / "snapshot.sqlite3")
    with snapshot:
        assert snapshot.execute("SELECT organization FROM bookings").fetchall() == [
            ("Syndicat des cols bleus",)
        ]
    snapshot.close()


def test_backup_is_private_and_never_overwrites_a_file(app, runner, tmp_path):
    archive = tmp_path / "ambulante.tar.gz"
    runner.invoke(args=["backup", str(archive)])
    first = archive.read_bytes()

    again = runner.invoke(args=["backup", str(archive)])

    assert archive.stat().st_mode & 0o777 == 0o600
    assert again.exit_code == 1 and "already exists" in again.output
    assert archive.read_bytes() == first


def test_backup_to_a_folder_that_does_not_exist_says_so(app, runner, tmp_path):
    result = runner.invoke(args=["backup", str(tmp_path / "nowhere" / "ambulante.tar.gz")])

    assert result.exit_code == 1 and "Cannot write" in result.output


def test_backup_into_the_data_dir_itself_leaves_itself_out(app, runner):
    archive = Path(app.config["DATA_DIR"]) / "ambulante.tar.gz"

    made = runner.invoke(args=["backup", str(archive)])

    assert made.exit_code == 0, made.output
    with tarfile.open(archive) as opened:
        names = [name for name in opened.getnames() if not name.startswith("data/media/")]
    assert sorted(names) == ["data/secret_key", "database.sqlite3", "manifest.json"]


def archive_of(tmp_path: Path, members: list[tuple[tarfile.TarInfo, bytes | None]]) -> Path:
    """An archive made by hand, with a proper manifest."""
    path = tmp_path / "handmade.tar.gz"
    manifest = json.dumps({"format": 1, "tables": None, "files": []}).encode()
    with tarfile.open(path, "w:gz") as archive:
        for member, content in [*members, (tarfile.TarInfo("manifest.json"), manifest)]:
            if content is not None:
                member.size = len(content)
            archive.addfile(member, io.BytesIO(content) if content is not None else None)
    return path


def file_member(name: str, content: bytes = b"x") -> tuple[tarfile.TarInfo, bytes]:
    return tarfile.TarInfo(name), content


def link_member(name: str, target: str) -> tuple[tarfile.TarInfo, None]:
    member = tarfile.TarInfo(name)
    member.type, member.linkname = tarfile.SYMTYPE, target
    return member, None


@pytest.mark.parametrize(
    ("members", "says"),
    [
        ([file_member("data/secret_key")], "holds no database"),
        ([file_member("database.sqlite3"), file_member("../evil")], "points outside"),
        ([file_member("database.sqlite3"), file_member("/tmp/evil")], "points outside"),
        ([file_member("database.sqlite3"), file_member("data/../../evil")], "points outside"),
        (
            [file_member("database.sqlite3"), link_member("data/key", "/etc/passwd")],
            "only files and folders",
        ),
        ([file_member("database.sqlite3"), file_member("elsewhere/x")], "not part of"),
        ([file_member("database.sqlite3"), file_member(".")], "not part of"),
        (
            [file_member("database.sqlite3"), file_member("data/ambulante.sqlite3-wal")],
            "would replace the live database",
        ),
        ([file_member("database.sqlite3", b"not a database")], "not a readable SQLite"),
    ],
)
def test_restore_refuses_an_archive_it_cannot_trust(
    app, runner, tmp_path, members: list[Any], says: str
):
    before, files_before = every_row(app), files_of(app.config["DATA_DIR"])

    refused = runner.invoke(args=["restore", str(archive_of(tmp_path, members))])

    assert refused.exit_code == 1 and says in refused.output, refused.output
    assert every_row(app) == before
    assert files_of(app.config["DATA_DIR"]) == files_before
    assert not (tmp_path / "evil").exists()


def test_restore_says_what_is_wrong_with_the_path(app, runner, tmp_path):
    not_an_archive = tmp_path / "notes.txt"
    not_an_archive.write_text("hello")

    missing = runner.invoke(args=["restore", str(tmp_path / "missing.tar.gz")])
    wrong = runner.invoke(args=["restore", str(not_an_archive)])

    assert missing.exit_code == 1 and "There is no archive at" in missing.output
    assert wrong.exit_code == 1 and "is not an archive written by `backup`" in wrong.output


def test_restore_refuses_an_archive_cut_short(app, client, runner, tmp_path):
    requests_sent(client, 1)
    archive = tmp_path / "ambulante.tar.gz"
    runner.invoke(args=["backup", str(archive)])
    whole = archive.read_bytes()
    archive.write_bytes(whole[: len(whole) // 2])
    before = every_row(app)

    refused = runner.invoke(args=["restore", str(archive)])

    assert refused.exit_code == 1 and "damaged or cut short" in refused.output
    assert every_row(app) == before


def test_backup_with_postgresql_keeps_the_files_and_gives_the_pg_dump_line(
    postgres_url, fresh_app, tmp_path
):
    app = fresh_app(DATABASE_URL=postgres_url)
    archive = tmp_path / "ambulante.tar.gz"

    made = app.test_cli_runner().invoke(args=["backup", str(archive)])

    assert made.exit_code == 0, made.output
    assert "pg_dump --format=custom --no-owner" in made.output
    assert str(tmp_path / "ambulante.pgdump") in made.output
    assert "+psycopg" not in made.output
    assert f":{make_url(postgres_url).password}@" not in made.output
    with tarfile.open(archive) as opened:
        names = [name for name in opened.getnames() if not name.startswith("data/media/")]
    assert sorted(names) == ["data/secret_key", "manifest.json"]
    # Into a new data dir on the same server, the files come back and pg_restore is named.
    new = fresh_app(DATABASE_URL=postgres_url)
    restored = new.test_cli_runner().invoke(args=["restore", str(archive)])
    assert restored.exit_code == 0, restored.output
    assert "pg_restore --clean --if-exists --no-owner" in restored.output
    key = Path(new.config["DATA_DIR"], "secret_key").read_text().strip()
    assert key == app.config["SECRET_KEY"]
