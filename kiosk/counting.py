"""Counting scans without ever failing one: a scan's count is written at once when the
database answers within a moment, or else kept in a spool file in the data dir and added
later (by a thread of the process, or `flask --app run kiosk flush-scans`), exactly once."""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import Engine, delete, event, select
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session

from core.clock import now_utc
from core.data_dir import PRIVATE_DIR_MODE, PRIVATE_FILE_MODE
from core.database import begin_write, engine_of, insert_or_on_conflict, make_engine, session_for
from kiosk.links import CODE_LENGTH, LinkNotFound, add_to_counts, count_scan, live_link
from kiosk.models import QrLink, ScanBatch

SPOOL_FOLDER = "scans"  # in the data dir: one file per kept scan, its link and its day
KEPT = ".jsonl"
PART = ".part"  # a file being written: never read until renamed to its KEPT name
BATCH = re.compile(r"[0-9a-f]{32}")  # a kept file's name: its random id, as scan_batches has it
COUNTER = "ambulante_scan_counter"

# A phone is redirected within a second whatever the database does. The waits of one scan
# add up to well under that, with room for keeping the count on disk: a free connection, then
# the lookup (a lookup that times out is answered from memory, and counts nothing), then, on
# SQLite, this process's turn to write, then the database's lock.
CONNECTIONS = 5  # the database connections of one process's scans (the pool keeps five)
SLOT_WAIT_SECONDS = 0.2  # no connection free that soon: answered from memory, kept on disk
WRITE_TURN_SECONDS = 0.2
LOCK_WAIT_MS = 250  # SQLite's busy timeout, PostgreSQL's lock_timeout
STATEMENT_MS = 300  # PostgreSQL's statement_timeout (a lookup held up by a lock on a table)
CONNECT_SECONDS = 2  # the least libpq allows; a refused connection fails at once
UNACKNOWLEDGED_MS = 1000  # a PostgreSQL server gone from the network: its socket is closed
QUIET_SECONDS = 1.0  # after a count that found the database busy, the next ones are kept
# Where the database was last seen to lead, for when it does not answer: enough for every code
# of a large exhibition, kept in one process's memory.
KNOWN_CODES = 10_000

FLUSH_SECONDS = 5.0  # how often the flusher looks for kept scans (at once when woken)
FILES_PER_FLUSH = 500  # one transaction adds this many kept scans at most
PART_FORGOTTEN = dt.timedelta(hours=1)  # a file left half-written by a process that died
# A kept batch's id stays in scan_batches this long after its counts were added: a file left
# behind by a crash right after the commit is recognised, and deleted, when next seen.
BATCHES_REMEMBERED = dt.timedelta(days=400)

log = logging.getLogger(__name__)


class DatabaseSilent(Exception):
    """The database did not answer in time, and this process never saw the code lead
    anywhere today: nowhere to send the phone."""


# What a database says when it is busy, down, or out of connections: try again later. (Not
# what a wrong statement or value gets: that is a bug to see, not a scan to keep.)
SILENT = (OperationalError, InterfaceError, PoolTimeout)


# The spool: a kept scan is a file of its own, complete once it has its name.


def keep_scan(spool: Path, link_id: int, day: dt.date) -> None:
    """Keep one scan on disk, durably, until it is added to the counts. Nothing about the
    visitor: the link and the Montréal day, as the counts have them."""
    spool.mkdir(mode=PRIVATE_DIR_MODE, exist_ok=True)
    batch = uuid.uuid4().hex
    part = spool / f".{batch}{PART}"
    line = json.dumps({"link": link_id, "day": day.isoformat()}) + "\n"
    descriptor = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE)
    try:
        os.write(descriptor, line.encode())
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
    os.rename(part, spool / f"{batch}{KEPT}")
    _sync_folder(spool)  # the new name survives a power cut too


def _sync_folder(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def kept_files(spool: Path) -> list[Path]:
    """The kept scans waiting to be counted, oldest name first (the order does not matter)."""
    if not spool.is_dir():
        return []
    return sorted(path for path in spool.iterdir() if path.name.endswith(KEPT))


def read_kept(path: Path) -> Counter[tuple[int, dt.date]]:
    """The scans a spool file holds, by link and day; ValueError when it is not one."""
    scans: Counter[tuple[int, dt.date]] = Counter()
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            entry = json.loads(line)
            link, day = entry["link"], dt.date.fromisoformat(entry["day"])
        except (ValueError, TypeError, KeyError) as error:
            raise ValueError(f"{path.name} is not a kept scan") from error
        if type(link) is not int or link < 1:
            raise ValueError(f"{path.name} names no link")
        scans[link, day] += 1
    return scans


def flush_kept(session: Session, spool: Path, now: dt.datetime) -> int:
    """Add one round of kept scans to the counts, in one transaction; returns how many.

    Each file's id goes into scan_batches in that same transaction, and only the files this
    transaction was the first to record are counted: two flushers reading the same file at
    once count it once, and a file still there after a crash that followed the commit is
    recognised. Files are deleted only after the commit."""
    files = kept_files(spool)[:FILES_PER_FLUSH]
    _forget_parts(spool, now)
    batches: dict[str, Counter[tuple[int, dt.date]]] = {}
    for path in files:
        batch = path.name.removesuffix(KEPT)
        try:
            if not BATCH.fullmatch(batch):
                raise ValueError(f"{path.name} is not named as keep_scan names files")
            batches[batch] = read_kept(path)
        except FileNotFoundError:  # another flusher counted it and deleted it meanwhile
            continue
        except (ValueError, UnicodeDecodeError):
            _set_aside(path)
    if not batches:
        return 0
    begin_write(session)
    first = _record_batches(session, sorted(batches), now)
    scans: Counter[tuple[int, dt.date]] = Counter()
    for batch in first:
        scans.update(batches[batch])
    added = _add_counts(session, scans)
    session.execute(delete(ScanBatch).where(ScanBatch.counted_at < now - BATCHES_REMEMBERED))
    session.commit()
    _delete_counted(spool, batches)
    return added


def _delete_counted(spool: Path, batches: Iterable[str]) -> None:
    for batch in batches:
        (spool / f"{batch}{KEPT}").unlink(missing_ok=True)


def _record_batches(session: Session, batches: list[str], now: dt.datetime) -> set[str]:
    """The batches recorded by this transaction (on PostgreSQL, one recorded by another
    transaction not yet committed is waited for, and left out if it commits)."""
    statement = insert_or_on_conflict(session, ScanBatch).values(
        [{"id": batch, "counted_at": now} for batch in batches]
    )
    statement = statement.on_conflict_do_nothing(index_elements=[ScanBatch.id])
    return set(session.scalars(statement.returning(ScanBatch.id)))


def _add_counts(session: Session, scans: Counter[tuple[int, dt.date]]) -> int:
    """Adds the scans to their counts; those of a link deleted since are dropped (logged)."""
    if not scans:
        return 0
    links = {link for link, _day in scans}
    existing = set(session.scalars(select(QrLink.id).where(QrLink.id.in_(links))))
    kept = {key: scans[key] for key in sorted(scans) if key[0] in existing}
    dropped = sum(scans.values()) - sum(kept.values())
    if dropped:
        log.warning("%d kept scans were of links deleted since: not counted", dropped)
    if not kept:
        return 0
    add_to_counts(session, kept)
    return sum(kept.values())


def _set_aside(path: Path) -> None:
    """A file that is not a kept scan (written by hand, say) stops no other from counting."""
    aside = path.with_name(f"{path.name}.unreadable")
    try:
        path.rename(aside)
    except FileNotFoundError:  # another flusher set it aside first
        return
    log.error("%s is not a kept scan; set aside as %s", path.name, aside.name)


def _forget_parts(spool: Path, now: dt.datetime) -> None:
    """A half-written file is a scan whose process died before redirecting the phone."""
    if not spool.is_dir():
        return
    for path in spool.glob(f".*{PART}"):
        try:
            written = dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC)
            if now - written > PART_FORGOTTEN:
                path.unlink()
        except FileNotFoundError:
            continue


def flush_all(session: Session, spool: Path, now: dt.datetime) -> int:
    """Every kept scan, round after round; returns how many were added."""
    added = 0
    while kept_files(spool):
        before = len(kept_files(spool))
        added += flush_kept(session, spool, now)
        if len(kept_files(spool)) >= before:  # only files set aside, or someone keeps adding
            break
    return added


# A scan in a running process.


@dataclass(frozen=True)
class Known:
    """Where the database last said a code leads, on which day."""

    link_id: int
    destination: str
    day: dt.date


Lead = Callable[[Session, QrLink], str]  # where a live link sends the phone


class ScanCounter:
    """One process's scans: a few connections with short waits for them, the codes seen
    lead somewhere, and the thread that adds kept scans once the database answers."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.spool = Path(app.config["DATA_DIR"]) / SPOOL_FOLDER
        self.engine = quick_engine(app.config["DATABASE_URL"])
        self._slots = threading.BoundedSemaphore(CONNECTIONS)
        # SQLite writes one at a time: this process's scans take turns before asking it, so
        # that only other processes' writes are waited for on the database's lock.
        self._write_turn = threading.Lock() if self.engine.dialect.name == "sqlite" else None
        self._quiet_until = 0.0
        self._known: dict[str, Known] = {}
        self._known_lock = threading.Lock()
        self._flusher: threading.Thread | None = None
        self._flusher_lock = threading.Lock()
        self._wake = threading.Event()
        self._kept_some = False
        self._stop_flusher = threading.Event()
        # When the app's engine lets its connections go (a restore, the end of a test), so
        # do the scans' connections and the flusher (started again by the next kept scan).
        event.listen(engine_of(app), "engine_disposed", self._let_go)

    def scan(self, code: str, today: dt.date, lead: Lead, counted: bool) -> str:
        """Where the code sends the phone; its scan is counted (when `counted`), or kept to
        be counted later. LinkNotFound when it leads nowhere; DatabaseSilent when neither the
        database nor this process's memory can say."""
        code = code.lower()
        if len(code) != CODE_LENGTH:  # nothing else was ever drawn
            raise LinkNotFound(code)
        if not self._slots.acquire(timeout=SLOT_WAIT_SECONDS):
            return self._from_memory(code, today, counted)
        try:
            with Session(self.engine) as session:
                return self._from_database(session, code, today, lead, counted)
        finally:
            self._slots.release()

    def _from_database(
        self, session: Session, code: str, today: dt.date, lead: Lead, counted: bool
    ) -> str:
        try:
            link = live_link(session, code, today)
            known = Known(link.id, lead(session, link), today)
        except LinkNotFound:
            self._forget(code)  # retired, or its portrait withdrawn: no longer from memory
            raise
        except SILENT:
            session.rollback()
            return self._from_memory(code, today, counted)
        self._remember(code, known)
        if counted:
            self._count(session, known.link_id, today)
        return known.destination

    def _count(self, session: Session, link_id: int, day: dt.date) -> None:
        if time.monotonic() < self._quiet_until:
            self.keep(link_id, day)
            return
        with self._turn_to_write() as my_turn:
            if my_turn:
                try:
                    count_scan(session, link_id, day)
                except SILENT:
                    session.rollback()
                    self._quiet_until = time.monotonic() + QUIET_SECONDS
                else:
                    if self._kept_some:  # the database answers again: add what was kept
                        self._wake.set()
                    return
        self.keep(link_id, day)

    @contextmanager
    def _turn_to_write(self) -> Iterator[bool]:
        if self._write_turn is None:
            yield True
            return
        if not self._write_turn.acquire(timeout=WRITE_TURN_SECONDS):
            yield False
            return
        try:
            yield True
        finally:
            self._write_turn.release()

    def _from_memory(self, code: str, today: dt.date, counted: bool) -> str:
        known = self._known.get(code)
        # Only what the database said today: a portrait's consent ends with a day.
        if known is None or known.day != today:
            raise DatabaseSilent(code)
        if counted:
            self.keep(known.link_id, today)
        return known.destination

    def _remember(self, code: str, known: Known) -> None:
        if self._known.get(code) == known:
            return
        with self._known_lock:
            self._known.pop(code, None)
            if len(self._known) >= KNOWN_CODES:
                self._known.pop(next(iter(self._known)))  # the one remembered longest ago
            self._known[code] = known

    def _forget(self, code: str) -> None:
        with self._known_lock:
            self._known.pop(code, None)

    def keep(self, link_id: int, day: dt.date) -> None:
        """Keep the scan on disk for the flusher; the phone is redirected all the same."""
        try:
            keep_scan(self.spool, link_id, day)
        except OSError:  # a full or read-only disk as well as a database that does not answer
            log.exception("a scan could be neither counted nor kept")
            return
        self._kept_some = True
        self.start_flusher()

    def start_flusher(self) -> threading.Thread:
        """The thread that adds kept scans to the counts: every FLUSH_SECONDS, and at once
        when a count shows the database answers again. One per process, started once."""
        with self._flusher_lock:
            if self._flusher is None:
                self._stop_flusher = threading.Event()
                self._flusher = threading.Thread(
                    target=self._flush_forever,
                    args=(self._stop_flusher,),
                    name="scan-counts",
                    daemon=True,
                )
                self._flusher.start()
            return self._flusher

    def _flush_forever(self, stop: threading.Event) -> None:
        waiting = False  # said once when the database stops answering, not every round
        while not stop.is_set():
            try:
                with session_for(self.app) as session:
                    self._kept_some = False
                    added = flush_all(session, self.spool, now_utc())
                    self._kept_some = bool(kept_files(self.spool))
                if added:
                    log.info("%d kept scans added to the counts", added)
                waiting = False
            except SILENT as error:
                self._kept_some = True
                if not waiting:
                    log.warning("kept scans wait for the database (%s)", type(error).__name__)
                waiting = True
            except Exception:  # noqa: BLE001 - a bad moment must not stop the counting
                self._kept_some = True
                log.exception("adding kept scans failed; tried again later")
            self._wake.wait(FLUSH_SECONDS)
            self._wake.clear()

    def _let_go(self, _engine: Engine) -> None:
        with self._flusher_lock:
            self._stop_flusher.set()
            self._wake.set()
            self._flusher = None
        self.engine.dispose()


def quick_engine(url: str) -> Engine:
    """The database as the app has it, with short waits: a scan never waits long on it."""
    engine = make_engine(url)

    @event.listens_for(engine, "do_connect")
    def on_do_connect(_dialect, _record, _args, params):  # type: ignore[no-untyped-def]
        if engine.dialect.name == "sqlite":
            params["timeout"] = LOCK_WAIT_MS / 1000
            return
        params["connect_timeout"] = CONNECT_SECONDS
        params["tcp_user_timeout"] = UNACKNOWLEDGED_MS
        waits = f"-c lock_timeout={LOCK_WAIT_MS} -c statement_timeout={STATEMENT_MS}"
        params["options"] = f"{params.get('options', '')} {waits}".strip()

    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def on_connect(dbapi_connection, _record):  # type: ignore[no-untyped-def]
            # After make_engine's own settings, which set the app's long busy timeout.
            dbapi_connection.execute(f"PRAGMA busy_timeout={LOCK_WAIT_MS}")

    return engine


def counter_of(app: Flask) -> ScanCounter:
    return app.extensions[COUNTER]


def start_flusher(app: Flask) -> threading.Thread:
    """Add the scans an earlier run kept at once, then whatever this process keeps (run.py
    starts it with the app's other workers; a process that keeps a scan starts it anyway)."""
    return counter_of(app).start_flusher()


@click.command("flush-scans")
@with_appcontext
def flush_scans() -> None:
    """Add the scans kept while the database was busy to the counts (run it from cron)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    spool = Path(app.config["DATA_DIR"]) / SPOOL_FOLDER
    try:
        with session_for(app) as session:
            added = flush_all(session, spool, now_utc())
    except SILENT as error:
        reason = getattr(error, "orig", error)
        raise click.ClickException(f"The database did not answer: {reason}") from error
    waiting = len(kept_files(spool))
    click.echo(f"{added} kept scan(s) added to the counts; {waiting} still waiting.")


def init_app(app: Flask) -> None:
    app.extensions[COUNTER] = ScanCounter(app)
    group = app.cli.commands.get("kiosk")
    if not isinstance(group, click.Group):
        group = AppGroup("kiosk", help="Screens, their QR codes and their scans.")
        app.cli.add_command(group)
    group.add_command(flush_scans)
