"""`backup PATH` and `restore PATH`: the database and the data dir's files in one private
archive, taken while the app runs, and brought back into an empty data dir."""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import shlex
import shutil
import sqlite3
import tarfile
import tempfile
import zlib
from collections.abc import Iterable
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import click
from flask import Flask
from sqlalchemy import URL, Engine, inspect, text

from core.clock import now_utc
from core.data_dir import KEY_FILE, PRIVATE_DIR_MODE, PRIVATE_FILE_MODE, keep_private
from core.database import SQLITE_BUSY_TIMEOUT_MS, engine_of

FORMAT = 1
MANIFEST = "manifest.json"  # written last: an archive without it was cut short
DATABASE_MEMBER = "database.sqlite3"
FILES_FOLDER = "data"  # the data dir's files, under their own relative paths
SQLITE_SIDE_FILES = ("-wal", "-shm", "-journal")
SEED_TABLES = "ambulante_seed_tables"
SEED_FOLDERS = "ambulante_seed_folders"
# Rows a data dir may hold and still count as empty: the schema's version, and failed
# sign-ins counted a short while (a fresh install may already have been tried).
CORE_SEED_TABLES = frozenset({"alembic_version", "login_throttles"})
LISTED_AT_MOST = 5


class BackupRefused(Exception):
    """The backup or the restore cannot go on; nothing was changed."""


@dataclass(frozen=True)
class Archived:
    """What an archive holds: rows per table of its database (None: no database, as with
    PostgreSQL) and the data dir's files, as paths relative to the data dir."""

    tables: dict[str, int] | None
    files: list[str]

    def describe(self) -> str:
        files = f"{len(self.files)} file{'' if len(self.files) == 1 else 's'}"
        if self.files:
            shown = ", ".join(self.files[:LISTED_AT_MOST])
            files += f" ({shown}{', …' if len(self.files) > LISTED_AT_MOST else ''})"
        if self.tables is None:
            return files
        return f"the database ({_rows(self.tables) or 'no rows'}) and {files}"


def _rows(tables: dict[str, int]) -> str:
    return ", ".join(
        f"{name}: {count}"
        for name, count in sorted(tables.items())
        if count and name != "alembic_version"
    )


def add_seed_tables(app: Flask, names: Iterable[str]) -> None:
    """A feature names its tables that a fresh start fills on its own (demo content,
    bookkeeping rows): `restore` may replace their rows."""
    app.extensions.setdefault(SEED_TABLES, set()).update(names)


def seed_tables(app: Flask) -> frozenset[str]:
    return CORE_SEED_TABLES | app.extensions.get(SEED_TABLES, set())


def add_seed_folder(app: Flask, name: str) -> None:
    """A folder of the data dir a first start fills on its own (the demo portraits' files):
    `restore` may replace it, and does, since the database that named them is replaced."""
    app.extensions.setdefault(SEED_FOLDERS, set()).add(name)


def seed_folders(app: Flask) -> frozenset[str]:
    return frozenset(app.extensions.get(SEED_FOLDERS, set()))


def sqlite_file(engine: Engine) -> Path | None:
    """The database file when the app runs on SQLite; None for a server database."""
    name = engine.url.database
    if engine.dialect.name != "sqlite" or not name or name == ":memory:":
        return None
    return Path(name).resolve()


def _database_files(database: Path | None) -> set[Path]:
    if database is None:
        return set()
    return {database, *(Path(f"{database}{suffix}") for suffix in SQLITE_SIDE_FILES)}


def data_files(data_dir: Path, leave_out: set[Path]) -> list[str]:
    """Every file under the data dir (paths relative to it), but the files and folders left
    out. Links to folders are not followed: everything the app writes there is a plain file."""
    found = []
    for folder, subfolders, names in os.walk(data_dir):
        subfolders[:] = sorted(name for name in subfolders if Path(folder, name) not in leave_out)
        for name in sorted(names):
            path = Path(folder, name)
            if path not in leave_out:
                found.append(path.relative_to(data_dir).as_posix())
    return found


# Backup ----------------------------------------------------------------------------------


def write_backup(target: Path, data_dir: Path, database: Path | None, now: dt.datetime) -> Archived:
    """Write the archive at `target` (a new file, private to the app's user): a snapshot of
    the SQLite database taken through SQLite's online backup API, which reads the last
    committed state while the app goes on writing, then the data dir's other files."""
    data_dir, target = data_dir.resolve(), target.absolute()
    if database is not None and not database.is_file():
        raise BackupRefused(f"There is no database at {database}.")
    try:
        descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE)
    except FileExistsError:
        raise BackupRefused(
            f"{target} already exists: a backup never overwrites a file, choose a new name."
        ) from None
    except OSError as error:
        raise BackupRefused(f"Cannot write {target}: {error.strerror}.") from None
    try:
        with (
            os.fdopen(descriptor, "wb") as file,
            tarfile.open(fileobj=file, mode="w:gz") as archive,
            # Beside the archive: where the person chose to put a database-sized file.
            tempfile.TemporaryDirectory(dir=target.parent, prefix=".ambulante-backup-") as work,
        ):
            tables = None
            if database is not None:
                snapshot = Path(work, DATABASE_MEMBER)
                tables = snapshot_sqlite(database, snapshot)
                archive.add(snapshot, DATABASE_MEMBER, filter=_anonymous)
            leave_out = _database_files(database) | {target, Path(work)}
            files = [
                name
                for name in data_files(data_dir, leave_out)
                if _add_file(archive, data_dir / name, f"{FILES_FOLDER}/{name}")
            ]
            manifest = {
                "format": FORMAT,
                "made_at": now.isoformat(),
                "tables": tables,
                "files": files,
            }
            _add_bytes(archive, MANIFEST, json.dumps(manifest, indent=1).encode(), now)
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    return Archived(tables, files)


def snapshot_sqlite(database: Path, into: Path) -> dict[str, int]:
    """Copy the database's committed state into a new file of one piece (no -wal beside
    it); returns the rows per table."""
    source = sqlite3.connect(database, timeout=SQLITE_BUSY_TIMEOUT_MS / 1000)
    copy = sqlite3.connect(into)
    with closing(source), closing(copy):
        # In one step (pages=-1): a write committed meanwhile cannot make the copy restart.
        source.backup(copy)
        copy.execute("PRAGMA journal_mode=DELETE")
        return _checked_tables(copy, database)


def _checked_tables(connection: sqlite3.Connection, named: Path) -> dict[str, int]:
    try:
        verdict = connection.execute("PRAGMA quick_check").fetchone()[0]
        names = [
            row[0]
            for row in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
    except sqlite3.DatabaseError as error:
        raise BackupRefused(f"{named} is not a readable SQLite database ({error}).") from None
    if verdict != "ok":
        raise BackupRefused(f"{named} is damaged: {verdict}")
    return {
        name: connection.execute(f"SELECT COUNT(*) FROM {_quoted(name)}").fetchone()[0]
        for name in names
    }


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _anonymous(member: tarfile.TarInfo) -> tarfile.TarInfo:
    """Who owned the files on this machine means nothing on the next one; every file is
    the app user's alone."""
    member.uid = member.gid = 0
    member.uname = member.gname = ""
    member.mode = PRIVATE_DIR_MODE if member.isdir() else PRIVATE_FILE_MODE
    return member


def _add_file(archive: tarfile.TarFile, path: Path, name: str) -> bool:
    """False when the file went away meanwhile (an outbox copy erased once its message
    was sent): the archive stays what the data dir held."""
    try:
        archive.add(path, name, recursive=False, filter=_anonymous)
    except FileNotFoundError:
        return False
    return True


def _add_bytes(archive: tarfile.TarFile, name: str, content: bytes, now: dt.datetime) -> None:
    member = tarfile.TarInfo(name)
    member.size, member.mode, member.mtime = len(content), PRIVATE_FILE_MODE, now.timestamp()
    archive.addfile(member, io.BytesIO(content))


def pg_dump_line(engine: Engine, target: Path) -> str:
    """The command that backs up a PostgreSQL database (the password from PGPASSWORD or
    ~/.pgpass, never on a command line)."""
    dump = _beside(target, ".pgdump")
    address = _libpq_address(engine)
    # umask: the dump holds the unions' contact details, like the archive.
    return (
        f"(umask 077 && pg_dump --format=custom --no-owner --file={shlex.quote(str(dump))} "
        f"{shlex.quote(address)})"
    )


def pg_restore_line(engine: Engine, archive: Path) -> str:
    address = _libpq_address(engine)
    dump = _beside(archive, ".pgdump")
    return (
        f"pg_restore --clean --if-exists --no-owner --dbname={shlex.quote(address)} "
        + shlex.quote(str(dump))
    )


def _libpq_address(engine: Engine) -> str:
    """The database's address as pg_dump reads it: no driver name, no password."""
    url = engine.url
    return URL.create(
        "postgresql", url.username, None, url.host, url.port, url.database, url.query
    ).render_as_string(hide_password=False)


def _beside(path: Path, suffix: str) -> Path:
    name = path.name
    for ending in (".tar.gz", ".tgz"):
        if name.endswith(ending):
            name = name[: -len(ending)]
    return path.with_name(name + suffix)


# Restore ---------------------------------------------------------------------------------


def restore_backup(
    archive_path: Path,
    data_dir: Path,
    engine: Engine,
    seeds: frozenset[str],
    seed_folders: frozenset[str] = frozenset(),
) -> Archived:
    """Bring an archive back into an empty data dir: a fresh start's (its key, a migrated
    database holding nothing but `seeds` tables' rows), and nothing else."""
    data_dir = data_dir.resolve()
    if not archive_path.is_file():
        raise BackupRefused(f"There is no archive at {archive_path}.")
    try:
        archive = tarfile.open(archive_path, "r:gz")
    except (tarfile.TarError, EOFError, zlib.error):
        raise BackupRefused(
            f"{archive_path} is not an archive written by `backup` (a .tar.gz)."
        ) from None
    try:
        with archive:
            return _restore_from(archive, archive_path, data_dir, engine, seeds, seed_folders)
    except (tarfile.TarError, EOFError, zlib.error) as error:
        raise BackupRefused(f"{archive_path} is damaged or cut short ({error}).") from None


def _restore_from(
    archive: tarfile.TarFile,
    archive_path: Path,
    data_dir: Path,
    engine: Engine,
    seeds: frozenset[str],
    seed_folders: frozenset[str],
) -> Archived:
    database = sqlite_file(engine)
    members = _checked_members(archive, data_dir, database)
    _check_manifest(archive, members, archive_path)
    has_database = DATABASE_MEMBER in members
    if database is not None and not has_database:
        raise BackupRefused(
            f"{archive_path} holds no database (was it taken from a PostgreSQL install?): "
            "nothing to restore into this app's SQLite database."
        )
    if database is None and has_database:
        raise BackupRefused(
            f"{archive_path} holds a SQLite database and this app uses "
            f"{engine.dialect.name}: restore it with AMBULANTE_DATABASE_URL unset."
        )
    refuse_unless_empty(data_dir, database, engine, seeds, seed_folders)
    staging = Path(tempfile.mkdtemp(prefix=".restore-", dir=data_dir))
    try:
        archive.extractall(staging, filter="data")
        return _put_in_place(staging, data_dir, database, engine, seed_folders)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _checked_members(
    archive: tarfile.TarFile, data_dir: Path, database: Path | None
) -> dict[str, tarfile.TarInfo]:
    """Only what `backup` writes: plain files and folders inside the data dir, never a
    link, never a path that climbs out, and nothing landing on the live database files."""
    live = _database_files(database)
    members = {}
    for member in archive.getmembers():
        path = PurePosixPath(member.name)
        if path.is_absolute() or ".." in path.parts:
            raise BackupRefused(f"Refused: the archive's {member.name!r} points outside.")
        if not (member.isfile() or member.isdir()):
            raise BackupRefused(
                f"Refused: the archive's {member.name!r} is a link or a device; only files "
                "and folders are restored."
            )
        in_files = bool(path.parts) and path.parts[0] == FILES_FOLDER
        if member.name not in (MANIFEST, DATABASE_MEMBER) and not in_files:
            raise BackupRefused(f"Refused: {member.name!r} is not part of an Ambulante backup.")
        if in_files and data_dir.joinpath(*path.parts[1:]) in live:
            raise BackupRefused(f"Refused: {member.name!r} would replace the live database.")
        members[member.name] = member
    return members


def _check_manifest(
    archive: tarfile.TarFile, members: dict[str, tarfile.TarInfo], archive_path: Path
) -> None:
    if MANIFEST not in members or not members[MANIFEST].isfile():
        raise BackupRefused(
            f"{archive_path} is not a complete Ambulante backup (its manifest, written "
            "last, is missing)."
        )
    content = archive.extractfile(members[MANIFEST])
    assert content is not None
    try:
        manifest = json.loads(content.read())
    except ValueError:
        raise BackupRefused(f"{archive_path}: its manifest does not read.") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupRefused(f"{archive_path} was written in a format this version cannot read.")


def refuse_unless_empty(
    data_dir: Path,
    database: Path | None,
    engine: Engine,
    seeds: frozenset[str],
    seed_folders: frozenset[str] = frozenset(),
) -> None:
    """A restore replaces what is there, so it only goes where nothing would be lost: no
    rows but in the seed tables (a PostgreSQL database is not looked at: pg_restore brings
    it back on its own), and no files but the key and the database's own."""
    if database is not None:
        rows = table_rows(engine)
        filled = {name: count for name, count in rows.items() if count and name not in seeds}
        if filled:
            raise BackupRefused(
                f"The database at {database} already holds data ({_rows(filled)}): restore "
                "into a new data dir (set AMBULANTE_DATA_DIR to a new folder)."
            )
    leave_out = _database_files(database) | {data_dir / KEY_FILE}
    leave_out |= {data_dir / folder for folder in seed_folders}
    files = data_files(data_dir, leave_out)
    if files:
        shown = ", ".join(files[:LISTED_AT_MOST])
        raise BackupRefused(
            f"The data dir {data_dir} is not empty (it holds {shown}): restore into a new "
            "data dir (set AMBULANTE_DATA_DIR to a new folder)."
        )


def table_rows(engine: Engine) -> dict[str, int]:
    quote = engine.dialect.identifier_preparer.quote
    with engine.connect() as connection:
        return {
            name: connection.scalar(text(f"SELECT COUNT(*) FROM {quote(name)}"))
            for name in inspect(connection).get_table_names()
        }


def _put_in_place(
    staging: Path,
    data_dir: Path,
    database: Path | None,
    engine: Engine,
    seed_folders: frozenset[str],
) -> Archived:
    tables = None
    if database is not None:
        snapshot = staging / DATABASE_MEMBER
        with closing(sqlite3.connect(snapshot)) as connection:
            tables = _checked_tables(connection, Path(DATABASE_MEMBER))
        if "alembic_version" not in tables:
            raise BackupRefused("The archive's database is not an Ambulante database.")
        engine.dispose()  # no connection of this process keeps the old file open
        if Path(f"{database}-wal").exists():
            # The last connection to close removes the -wal: another process has it open.
            raise BackupRefused(
                f"The database at {database} is open in another process (is the app "
                "running?): stop it, then restore."
            )
        for live in _database_files(database) - {database}:
            live.unlink(missing_ok=True)  # a journal left beside the new file would be replayed
        os.chmod(snapshot, PRIVATE_FILE_MODE)
        shutil.move(snapshot, database)
        keep_private(database, PRIVATE_FILE_MODE)
    for folder in seed_folders:  # the new install's demo files: their database is gone
        shutil.rmtree(data_dir / folder, ignore_errors=True)
    files = []
    extracted = staging / FILES_FOLDER
    for name in data_files(extracted, set()):
        target = data_dir / name
        _make_private_folders(data_dir, target.parent)
        os.replace(extracted / name, target)
        keep_private(target, PRIVATE_FILE_MODE)
        files.append(name)
    return Archived(tables, files)


def _make_private_folders(data_dir: Path, folder: Path) -> None:
    current = data_dir
    for part in folder.relative_to(data_dir).parts:
        current = current / part
        current.mkdir(mode=PRIVATE_DIR_MODE, exist_ok=True)
        keep_private(current, PRIVATE_DIR_MODE)


# Commands --------------------------------------------------------------------------------


def register_commands(app: Flask) -> None:
    @app.cli.command("backup")
    @click.argument("path", type=click.Path(path_type=Path))
    def backup(path: Path) -> None:
        """Write the database and the data dir's files into a new private archive
        (.tar.gz) at PATH; the app may keep running."""
        engine = engine_of(app)
        database = sqlite_file(engine)
        try:
            made = write_backup(path, Path(app.config["DATA_DIR"]), database, now_utc())
        except BackupRefused as error:
            raise click.ClickException(str(error)) from None
        click.echo(f"Backed up {made.describe()} into {path}.")
        if database is None:
            click.echo(
                f"The database is on {engine.dialect.name}: back it up as well, with\n"
                f"  {pg_dump_line(engine, path)}"
            )

    @app.cli.command("restore")
    @click.argument("path", type=click.Path(path_type=Path))
    def restore(path: Path) -> None:
        """Bring the archive at PATH back into this app's data dir, which must be new
        (only what a first start makes: its key and an empty database)."""
        engine = engine_of(app)
        try:
            data_dir = Path(app.config["DATA_DIR"])
            restored = restore_backup(path, data_dir, engine, seed_tables(app), seed_folders(app))
        except BackupRefused as error:
            raise click.ClickException(str(error)) from None
        click.echo(f"Restored {restored.describe()} into {app.config['DATA_DIR']}.")
        if sqlite_file(engine) is None:
            click.echo(
                f"The database is on {engine.dialect.name}: restore it as well, with\n"
                f"  {pg_restore_line(engine, path)}"
            )
        else:
            click.echo(
                "The app brings the database to the latest schema at its next start "
                "(or run `flask --app run db upgrade`)."
            )
