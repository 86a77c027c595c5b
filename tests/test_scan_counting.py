"""Phones scanning while the database is busy or does not answer: each one is still sent on
within a second, each scan is counted exactly once (at once, or from the spool once the
database answers again), and nothing about the visitor is kept on the way. The crowd of
200 phones on two servers with the database answering is in tests/test_shortlinks.py."""

from __future__ import annotations

import datetime as dt
import http.client
import json
import logging
import sqlite3
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

import core.clock
from core.clock import now_utc, today_local
from core.database import engine_of, session_for
from kiosk import counting
from kiosk.counting import flush_kept, keep_scan, kept_files
from kiosk.models import QrLink, ScanBatch, Screen
from media.models import Portrait
from tests.factories import environment_for_server, portrait_with_sizes
from tests.servers import HOST, PROJECT_ROOT, SharedDatabase, read_back
from tests.test_shortlinks import (
    ADDRESS,
    DONATE_URL,
    PUBLIC_URL,
    REQUEST_TIMEOUT_S,
    SCAN_COUNT_OF,
    SCANS_PER_THREAD,
    SIGNUP_URL,
    THREADS,
    VISITOR_HEADERS,
    _assert_no_trace,
    _Clock,
    _every_row,
    _files_under,
    _screen_codes,
)

A_SECOND = 1.0  # the longest a phone may wait, whatever the database does


@pytest.fixture
def app_config() -> dict[str, Any]:
    return {"PUBLIC_URL": PUBLIC_URL, "DONATE_URL": DONATE_URL, "SIGNUP_URL": SIGNUP_URL}


@pytest.fixture(params=["sqlite", "postgresql"])
def counting_app(request: pytest.FixtureRequest, fresh_app: Callable[..., Flask]) -> Flask:
    """The app on its SQLite file, and on PostgreSQL when a test server is given."""
    if request.param == "sqlite":
        app = request.getfixturevalue("app")
    else:
        config = request.getfixturevalue("app_config")
        app = fresh_app(DATABASE_URL=request.getfixturevalue("postgres_url"), **config)
    return app


def screen_codes(client: FlaskClient) -> dict[str, str]:
    """The default screen's codes by target (and its first portrait's, once it has one), as
    the screen's bundle gives them."""
    bundle = client.get("/kiosk/accueil/bundle.json").get_json()
    found = {code["target"]: code["url"].rsplit("/", 1)[1] for code in bundle["codes"]}
    if bundle["slides"]:
        found["portrait"] = bundle["slides"][0]["story"]["url"].rsplit("/", 1)[1]
    return found


def scans_of(app: Flask, code: str) -> int:
    """The code's count as the database holds it, on a connection of the test's own."""
    return read_back(app.config["DATABASE_URL"], SCAN_COUNT_OF.bindparams(code=code))[0][0]


def spool_of(app: Flask) -> Path:
    return Path(app.config["DATA_DIR"]) / counting.SPOOL_FOLDER


def timed_get(client: FlaskClient, path: str, **kwargs: Any) -> tuple[Any, float]:
    started = time.monotonic()
    response = client.get(path, **kwargs)
    return response, time.monotonic() - started


@contextmanager
def database_locked(url: str) -> Iterator[None]:
    """Another program holds the database's write lock (SQLite's BEGIN EXCLUSIVE; on
    PostgreSQL, scan_counts in EXCLUSIVE mode): reading still answers, counting waits."""
    if url.startswith("sqlite"):
        holder = sqlite3.connect(make_url(url).database, isolation_level=None)
        try:
            holder.execute("BEGIN EXCLUSIVE")
            yield
            holder.execute("ROLLBACK")
        finally:
            holder.close()
        return
    engine = create_engine(url)
    try:
        with engine.connect() as holder:
            holder.execute(text("LOCK TABLE scan_counts IN EXCLUSIVE MODE"))
            yield
            holder.rollback()
    finally:
        engine.dispose()


@contextmanager
def database_silent(app: Flask) -> Iterator[None]:
    """The database does not answer at all: on SQLite, another program holds the file in
    exclusive locking mode (once this process's connections are closed, as after a restart
    of the database); on PostgreSQL, a transaction holds qr_links in ACCESS EXCLUSIVE mode,
    so even a lookup waits."""
    url = app.config["DATABASE_URL"]
    if not url.startswith("sqlite"):
        engine = create_engine(url)
        try:
            with engine.connect() as holder:
                holder.execute(text("LOCK TABLE qr_links IN ACCESS EXCLUSIVE MODE"))
                yield
                holder.rollback()
        finally:
            engine.dispose()
        return
    engine_of(app).dispose()
    counting.counter_of(app).engine.dispose()
    holder = sqlite3.connect(make_url(url).database, isolation_level=None)
    try:
        holder.execute("PRAGMA locking_mode=EXCLUSIVE")
        holder.execute("BEGIN EXCLUSIVE")
        yield
        holder.execute("ROLLBACK")
    finally:
        holder.close()


def flush_command(app: Flask) -> str:
    result = app.test_cli_runner().invoke(args=["kiosk", "flush-scans"])
    assert result.exit_code == 0, result.output
    return result.output


# A phone at the venue.


def test_a_phone_scanning_while_the_database_is_locked_is_sent_on_and_counted_later(
    counting_app: Flask,
) -> None:
    client = counting_app.test_client()
    code = screen_codes(client)["donate"]
    location = client.get(f"/q/{code}").headers["Location"]

    with database_locked(counting_app.config["DATABASE_URL"]):
        for _ in range(3):
            response, seconds = timed_get(client, f"/q/{code}")
            assert response.status_code == 302 and response.headers["Location"] == location
            assert seconds < A_SECOND
        assert client.head(f"/q/{code}").status_code == 302  # a link preview: no scan
        assert scans_of(counting_app, code) == 1, "nothing is counted while it is locked"
        assert len(kept_files(spool_of(counting_app))) == 3

    flush_command(counting_app)
    assert scans_of(counting_app, code) == 4
    assert kept_files(spool_of(counting_app)) == []
    flush_command(counting_app)
    assert scans_of(counting_app, code) == 4


def test_a_scan_kept_on_disk_says_nothing_about_the_visitor(
    app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    client = app.test_client()
    codes = screen_codes(client)
    spool = spool_of(app)

    with database_locked(app.config["DATABASE_URL"]):
        for code in codes.values():
            response = client.get(
                f"/q/{code}", headers=VISITOR_HEADERS, environ_base={"REMOTE_ADDR": ADDRESS}
            )
            assert response.status_code == 302
        kept = kept_files(spool)
        assert len(kept) == len(codes)
        entries = [json.loads(path.read_text()) for path in kept]
        _assert_no_trace("the spool", _files_under(spool) + "\n".join(map(str, kept)).encode())

    today = today_local().isoformat()
    assert all(set(entry) == {"link", "day"} and entry["day"] == today for entry in entries)
    assert stat.S_IMODE(spool.stat().st_mode) == 0o700
    assert all(stat.S_IMODE(path.stat().st_mode) == 0o600 for path in kept)
    flush_command(app)
    assert [scans_of(app, code) for code in codes.values()] == [1] * len(codes)
    _assert_no_trace("the tables", _every_row(app.config["DATABASE_URL"]))
    _assert_no_trace("the logs", caplog.text)


def test_when_the_database_does_not_answer_a_code_seen_today_still_leads_on(
    counting_app: Flask,
) -> None:
    client = counting_app.test_client()
    codes = screen_codes(client)
    location = client.get(f"/q/{codes['donate']}").headers["Location"]

    with database_silent(counting_app):
        known, seconds = timed_get(client, f"/q/{codes['donate']}")
        assert known.status_code == 302 and known.headers["Location"] == location
        assert seconds < A_SECOND
        # Never seen lead anywhere by this process: nowhere to send the phone, it may retry.
        unseen, seconds = timed_get(
            client, f"/q/{codes['signup']}", headers={"Accept-Language": "en"}
        )
        assert unseen.status_code == 503 and unseen.headers["Retry-After"]
        assert "please send yours again" in unseen.get_data(as_text=True)
        assert seconds < A_SECOND
        assert client.get("/q/zzz").status_code == 404  # not a code at all, whatever happens

    flush_command(counting_app)
    assert scans_of(counting_app, codes["donate"]) == 2
    assert scans_of(counting_app, codes["signup"]) == 0


def _withdraw_consent(session: Any, portrait: Portrait) -> str:
    portrait.consent_withdrawn_on = today_local() - dt.timedelta(days=1)
    return "portrait"


def _retire_the_code(session: Any, portrait: Portrait) -> str:
    """As deleting a venue's screen retires its codes."""
    donate = session.scalar(
        select(QrLink).join(Screen).where(Screen.is_default, QrLink.target == "donate")
    )
    donate.retired_at = now_utc()
    return "donate"


@pytest.mark.parametrize(
    "stop_leading",
    [_withdraw_consent, _retire_the_code],
    ids=["consent withdrawn", "code retired"],
)
def test_a_code_that_stopped_leading_is_not_followed_from_memory_either(
    app: Flask, session: Any, stop_leading: Callable[[Any, Portrait], str]
) -> None:
    client = app.test_client()
    portrait = portrait_with_sizes(app, session)
    codes = screen_codes(client)
    for code in codes.values():
        assert client.get(f"/q/{code}").status_code == 302
    session.rollback()

    code = codes[stop_leading(session, portrait)]
    session.commit()
    session.close()
    assert client.get(f"/q/{code}").status_code == 404

    with database_silent(app):
        assert client.get(f"/q/{code}").status_code == 503


def test_what_the_database_said_yesterday_is_not_followed_today(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = app.test_client()
    code = screen_codes(client)["donate"]
    evening = dt.datetime(2027, 3, 1, 3, 30, tzinfo=dt.UTC)  # 22:30 on 28 February
    monkeypatch.setattr(core.clock, "dt", _Clock(evening).module)
    assert client.get(f"/q/{code}").status_code == 302

    after_midnight = dt.datetime(2027, 3, 1, 5, 30, tzinfo=dt.UTC)
    monkeypatch.setattr(core.clock, "dt", _Clock(after_midnight).module)
    with database_silent(app):
        assert client.get(f"/q/{code}").status_code == 503


# The spool, and who adds it to the counts.


def _link_id(app: Flask, code: str) -> int:
    return read_back(
        app.config["DATABASE_URL"],
        text("SELECT id FROM qr_links WHERE code = :c").bindparams(c=code),
    )[0][0]


def test_two_flushers_reading_the_same_kept_scans_count_them_once(
    counting_app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    code = screen_codes(counting_app.test_client())["donate"]
    spool = spool_of(counting_app)
    for _ in range(30):
        keep_scan(spool, _link_id(counting_app, code), today_local())
    # Both have read every file before either writes.
    both_read = threading.Barrier(2, timeout=30)
    begin_write = counting.begin_write

    def after_both_read(session: Any) -> None:
        both_read.wait()
        begin_write(session)

    monkeypatch.setattr(counting, "begin_write", after_both_read)

    def flusher(_number: int) -> int:
        with session_for(counting_app) as session:
            return flush_kept(session, spool, now_utc())

    with ThreadPoolExecutor(max_workers=2) as pool:
        added = list(pool.map(flusher, range(2), timeout=60))

    assert sorted(added) == [0, 30]
    assert scans_of(counting_app, code) == 30
    assert kept_files(spool) == []


class Crash(BaseException):
    """The process dies here (a power cut, a kill -9)."""


def test_a_crash_between_the_commit_and_the_deletion_counts_nothing_twice(
    counting_app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    code = screen_codes(counting_app.test_client())["donate"]
    spool = spool_of(counting_app)
    for _ in range(5):
        keep_scan(spool, _link_id(counting_app, code), today_local())

    def crash(*_args: Any) -> None:
        raise Crash

    with monkeypatch.context() as patch:
        patch.setattr(counting, "_delete_counted", crash)
        with pytest.raises(Crash):
            flush_command(counting_app)
    assert scans_of(counting_app, code) == 5
    assert len(kept_files(spool)) == 5, "the files outlived the commit"

    assert "0 kept scan(s) added" in flush_command(counting_app)
    assert scans_of(counting_app, code) == 5
    assert kept_files(spool) == []


def test_a_kept_scan_counts_for_its_own_day_whenever_it_is_added(app: Flask) -> None:
    code = screen_codes(app.test_client())["donate"]
    spool = spool_of(app)
    keep_scan(spool, _link_id(app, code), dt.date(2027, 2, 28))
    keep_scan(spool, _link_id(app, code), dt.date(2027, 2, 28))
    keep_scan(spool, _link_id(app, code), dt.date(2027, 3, 1))

    assert flush_command(app) == "3 kept scan(s) added to the counts; 0 still waiting.\n"

    rows = read_back(
        app.config["DATABASE_URL"], text("SELECT day, scans FROM scan_counts ORDER BY day")
    )
    assert rows == [("2027-02-28", 2), ("2027-03-01", 1)]


def test_a_file_that_is_not_a_kept_scan_is_set_aside_and_the_others_still_count(
    counting_app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    code = screen_codes(counting_app.test_client())["donate"]
    spool = spool_of(counting_app)
    keep_scan(spool, _link_id(counting_app, code), today_local())
    keep_scan(spool, 999_999, today_local())  # a link deleted since it was kept
    (spool / f"{'0' * 32}.jsonl").write_text('{"link": "donate", "day": "hier"}\n')
    (spool / f"{'1' * 32}.jsonl").write_bytes(b'{"link": 1, "da')  # cut short
    (spool / "copy of a kept scan.jsonl").write_text(f'{{"link": 1, "day": "{today_local()}"}}')

    assert "1 kept scan(s) added" in flush_command(counting_app)

    assert scans_of(counting_app, code) == 1
    assert kept_files(spool) == []
    assert sorted(path.name for path in spool.iterdir()) == [
        f"{'0' * 32}.jsonl.unreadable",
        f"{'1' * 32}.jsonl.unreadable",
        "copy of a kept scan.jsonl.unreadable",
    ]
    assert "links deleted since" in caplog.text
    assert "0 kept scan(s) added" in flush_command(counting_app)


def test_the_running_app_adds_what_it_kept_by_itself(app: Flask) -> None:
    client = app.test_client()
    code = screen_codes(client)["donate"]

    with database_locked(app.config["DATABASE_URL"]):
        assert client.get(f"/q/{code}").status_code == 302
    time.sleep(counting.QUIET_SECONDS)  # the next scans try the database again
    assert client.get(f"/q/{code}").status_code == 302

    # No cron: the process's own thread adds it once the database answers.
    deadline = time.monotonic() + counting.FLUSH_SECONDS / 2
    while scans_of(app, code) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert scans_of(app, code) == 2
    assert kept_files(spool_of(app)) == []


def test_scans_kept_by_an_earlier_run_are_added_when_the_app_starts(app: Flask) -> None:
    code = screen_codes(app.test_client())["donate"]
    for _ in range(2):
        keep_scan(spool_of(app), _link_id(app, code), today_local())

    counting.start_flusher(app)

    deadline = time.monotonic() + 10
    while scans_of(app, code) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert scans_of(app, code) == 2


# A crowd, through real servers.


def _crowd(ports: list[int], code: str) -> list[tuple[int, float]]:
    """THREADS phones scanning SCANS_PER_THREAD times each, alternating between the
    servers, all starting together, each telling who it is: each scan's status and how long
    the phone waited."""
    barrier = threading.Barrier(THREADS, timeout=REQUEST_TIMEOUT_S)

    def phone(number: int) -> list[tuple[int, float]]:
        results = []
        barrier.wait()
        for scan in range(SCANS_PER_THREAD):
            port = ports[(number + scan) % len(ports)]
            connection = http.client.HTTPConnection(HOST, port, timeout=REQUEST_TIMEOUT_S)
            try:
                started = time.monotonic()
                connection.request("GET", f"/q/{code}", headers=VISITOR_HEADERS)
                response = connection.getresponse()
                response.read()
                results.append((response.status, time.monotonic() - started))
            finally:
                connection.close()
        return results

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        done = pool.map(phone, range(THREADS), timeout=4 * REQUEST_TIMEOUT_S)
        return [result for results in done for result in results]


def _flush_command(database: SharedDatabase) -> str:
    """`flask --app run kiosk flush-scans`, as cron runs it."""
    finished = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "run", "kiosk", "flush-scans"],
        cwd=PROJECT_ROOT,
        env=environment_for_server(AMBULANTE_DATA_DIR=str(database.data_dir), **database.env),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert finished.returncode == 0, finished.stderr
    return finished.stdout


def test_a_crowd_scanning_while_the_database_is_locked_is_sent_on_and_counted_exactly(
    shared_database: SharedDatabase,
    start_server: Callable[[SharedDatabase, str], int],
    tmp_path: Path,
) -> None:
    ports = [start_server(shared_database, "a"), start_server(shared_database, "b")]
    code = _screen_codes(ports[0])["donate"]
    crowd = THREADS * SCANS_PER_THREAD
    spool = shared_database.data_dir / counting.SPOOL_FOLDER

    with database_locked(shared_database.url):
        locked = _crowd(ports, code)
        counted_while_locked = read_back(shared_database.url, SCAN_COUNT_OF.bindparams(code=code))
        _assert_no_trace("the spool", _files_under(spool))
    # Then a second crowd at once, while the servers add what they kept.
    answering = _crowd(ports, code)
    _flush_command(shared_database)

    assert [status for status, _seconds in locked + answering] == [302] * (2 * crowd)
    slowest = max(seconds for _status, seconds in locked)
    assert slowest < A_SECOND, f"a phone waited {slowest:.2f} s"
    assert counted_while_locked == [(0,)]
    assert read_back(shared_database.url, SCAN_COUNT_OF.bindparams(code=code)) == [(2 * crowd,)]
    assert kept_files(spool) == []
    [(batches,)] = read_back(shared_database.url, select(func.count()).select_from(ScanBatch))
    assert batches >= crowd, "each scan made while it was locked went through the spool"
    _assert_no_trace("the tables", _every_row(shared_database.url))
    for name in ("a", "b"):
        _assert_no_trace(f"server {name}'s output", (tmp_path / f"server-{name}.log").read_text())
