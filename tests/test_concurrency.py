"""Unions racing for the same dates through two app processes: only the free crates are held."""

from __future__ import annotations

import datetime as dt
import http.client
import json
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, insert, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from booking.demo import seed_demo_offerings
from booking.models import Booking, Offering, Unit
from booking.service import OVERLAP_SQLSTATE, OVERLAP_TRIGGER_MESSAGE, hash_token
from core.database import make_engine
from core.migrate import upgrade_to_latest
from tests.factories import A_UNION, api_body, days_from_today, training_day
from tests.servers import HOST, SharedDatabase, read_back

OFFERING = "expo-interieure"
CRATES = 2  # the seeded indoor set ships in Caisse A and Caisse B
UNIONS = 40
REQUEST_TIMEOUT_S = 15
HOLDING = "status IN ('requested', 'confirmed')"
OVERLAPPING_HOLDS = text(
    "SELECT a.reference, b.reference FROM bookings a JOIN bookings b "
    "ON a.unit_id = b.unit_id AND a.id < b.id "
    f"WHERE a.{HOLDING} AND b.{HOLDING} "
    "AND a.blocked_start <= b.blocked_end AND b.blocked_start <= a.blocked_end"
)
HELD_REFERENCES = text(f"SELECT reference FROM bookings WHERE {HOLDING}")


def _exchange(
    connection: http.client.HTTPConnection, method: str, path: str, body: Any
) -> tuple[int, Any]:
    payload = None if body is None else json.dumps(body)
    connection.request(method, path, body=payload, headers={"Content-Type": "application/json"})
    response = connection.getresponse()
    raw = response.read().decode()
    try:
        return response.status, json.loads(raw)
    except ValueError:
        return response.status, raw


def _request_from_union(number: int, start: dt.date, end: dt.date) -> dict[str, Any]:
    """The JSON body a union's own software would send for those dates."""
    return api_body(
        OFFERING,
        start=start,
        end=end,
        organization=f"Syndicat local {number}",
        email=f"local{number}@example.org",
    )


def _race(ports: list[int], bodies: list[dict[str, Any]]) -> list[tuple[int, Any]]:
    """Sends every body at once, alternating between the processes: each thread connects
    first, then waits at a barrier so the requests leave together."""
    barrier = threading.Barrier(len(bodies), timeout=REQUEST_TIMEOUT_S)

    def send(index: int) -> tuple[int, Any]:
        port = ports[index % len(ports)]
        connection = http.client.HTTPConnection(HOST, port, timeout=REQUEST_TIMEOUT_S)
        try:
            try:
                connection.connect()
            except OSError:
                barrier.abort()  # the others stop waiting at once
                raise
            barrier.wait()
            try:
                return _exchange(connection, "POST", "/api/v1/bookings", bodies[index])
            except OSError as error:  # a timeout counts as an odd reply, not a crash
                return 0, f"no reply: {error!r}"
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=len(bodies)) as pool:
        return list(pool.map(send, range(len(bodies)), timeout=2 * REQUEST_TIMEOUT_S))


def test_unions_racing_for_the_same_dates_are_held_only_as_many_as_crates(
    shared_database: SharedDatabase, start_server: Callable[[SharedDatabase, str], int]
) -> None:
    # B starts once A has migrated and seeded; migrations are locked anyway.
    ports = [start_server(shared_database, "a"), start_server(shared_database, "b")]
    start = days_from_today(60)
    end = start + dt.timedelta(days=4)
    bodies = [_request_from_union(number, start, end) for number in range(1, UNIONS + 1)]

    began = time.monotonic()
    replies = _race(ports, bodies)
    elapsed = time.monotonic() - began

    statuses = Counter(status for status, _body in replies)
    assert statuses == {201: CRATES, 409: UNIONS - CRATES}, (
        f"replies by status: {dict(statuses)} in {elapsed:.1f}s; "
        f"first odd reply: {next((r for r in replies if r[0] not in (201, 409)), None)}"
    )
    held = [body for status, body in replies if status == 201]
    assert all(
        body["status"] == "requested" and body["start"] == start.isoformat() for body in held
    )
    for _status, body in (reply for reply in replies if reply[0] == 409):
        assert body["next_available"], "a refused union is shown no other dates"
        for window in body["next_available"]:
            assert dt.date.fromisoformat(window["start"]) > end, (
                f"a refused union is offered dates it was just refused: {window}"
            )

    assert read_back(shared_database.url, OVERLAPPING_HOLDS) == []
    held_in_database = {
        reference for (reference,) in read_back(shared_database.url, HELD_REFERENCES)
    }
    assert held_in_database == {body["reference"] for body in held}


@pytest.fixture(params=["sqlite", "postgresql"])
def migrated_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A database at the latest schema with the demo offerings, as a fresh install has."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'ambulante.sqlite3'}"
    else:
        url = request.getfixturevalue("postgres_url")
    engine = make_engine(url)
    try:
        upgrade_to_latest(engine)
        with Session(engine) as session:
            seed_demo_offerings(session)
        yield engine
    finally:
        engine.dispose()


def _hold_row(unit: Any, start: dt.date, end: dt.date, number: int) -> dict[str, Any]:
    """A booking row holding one crate, written as raw SQL would, with no app rule involved."""
    return dict(
        offering_id=unit.offering_id,
        unit_id=unit.id,
        start_date=start,
        end_date=end,
        blocked_start=start - dt.timedelta(days=2),
        blocked_end=end + dt.timedelta(days=2),
        status="requested",
        **{**A_UNION, "organization": f"Syndicat local {number}"},
        manage_token_hash=hash_token(f"token-{number}"),
        created_at=dt.datetime.now(dt.UTC),
    )


def test_database_itself_refuses_a_second_hold_on_a_held_crate(
    migrated_engine: Engine,
) -> None:
    engine = migrated_engine
    with engine.connect() as connection:
        crate_a, crate_b = connection.execute(
            select(Unit.id, Unit.offering_id)
            .join(Offering)
            .where(Offering.slug == OFFERING)
            .order_by(Unit.position)
        ).all()
    start = days_from_today(60)
    end = start + dt.timedelta(days=4)
    bookings = insert(Booking.__table__)
    with engine.begin() as connection:
        connection.execute(bookings.values(**_hold_row(crate_a, start, end, 1)))
        # The same dates on the other crate are fine: the refusal is about one crate.
        connection.execute(bookings.values(**_hold_row(crate_b, start, end, 2)))

    # Its set-up would begin on the last day of Caisse A's transit: one shared day.
    later = end + dt.timedelta(days=4)
    with pytest.raises(IntegrityError) as refused, engine.begin() as connection:
        connection.execute(
            bookings.values(**_hold_row(crate_a, later, later + dt.timedelta(days=4), 3))
        )

    error = refused.value.orig
    overlap = getattr(error, "sqlstate", None) == OVERLAP_SQLSTATE  # PostgreSQL's exclusion
    overlap = overlap or OVERLAP_TRIGGER_MESSAGE in str(error)  # SQLite's trigger
    assert overlap, f"refused, but not as an overlap: {error}"
    with engine.connect() as connection:
        holds = connection.scalars(
            select(Booking.organization).where(text(HOLDING)).order_by(Booking.id)
        ).all()
    assert holds == ["Syndicat local 1", "Syndicat local 2"]


def _get(port: int, path: str) -> Any:
    connection = http.client.HTTPConnection(HOST, port, timeout=REQUEST_TIMEOUT_S)
    try:
        connection.request("GET", path, headers={"Accept-Language": "en"})
        response = connection.getresponse()
        body = response.read().decode()
        return (
            json.loads(body)
            if response.getheader("Content-Type", "").startswith("application/json")
            else body
        )
    finally:
        connection.close()


def test_what_one_process_changes_the_other_shows_at_once(
    shared_database: SharedDatabase, start_server: Callable[[SharedDatabase, str], int]
) -> None:
    """Each process keeps offerings and public pages in memory; the database's calendar
    version tells every process the moment they change."""
    first, second = start_server(shared_database, "a"), start_server(shared_database, "b")
    day = training_day(60)
    availability = f"/api/v1/availability?offering=formation-bd-textile&start={day}&end={day}"
    assert _get(second, availability)["days"][0]["status"] == "free"
    assert "Textile day" not in _get(second, "/")

    for team in range(2):  # both trainer teams, through the other process
        connection = http.client.HTTPConnection(HOST, first, timeout=REQUEST_TIMEOUT_S)
        try:
            body = api_body("formation-bd-textile", start=day, end=day, email=f"t{team}@ex.org")
            status, _answer = _exchange(connection, "POST", "/api/v1/bookings", body)
        finally:
            connection.close()
        assert status == 201
    assert _get(second, availability)["days"][0]["status"] == "held"

    engine = create_engine(shared_database.url)  # staff editing the offering elsewhere
    try:
        with engine.begin() as connection:
            connection.execute(
                text("UPDATE offerings SET title_en = 'Textile day' WHERE slug = :slug"),
                {"slug": "formation-bd-textile"},
            )
    finally:
        engine.dispose()
    assert "Textile day" in _get(second, "/")
    offerings = _get(second, "/api/v1/offerings")["offerings"]
    assert "Textile day" in [offering["title"]["en"] for offering in offerings]
