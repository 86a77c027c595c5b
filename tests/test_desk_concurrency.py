"""Staff and unions racing for the same free days through two app processes: a staff move or
a blackout and a union's request never both take them (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import json
import re
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from http.cookiejar import CookieJar
from typing import Any

from sqlalchemy import create_engine, select, text
from sqlalchemy.orm import Session

from booking.decisions import decide
from booking.errors import StatusChangeRefused
from booking.models import Booking, Unit
from booking.service import booking_by_reference, cancel_booking
from booking.status import BookingStatus
from core.clock import now_utc
from core.database import engine_of, session_for
from core.staff.models import Role
from run import create_app
from tests.factories import (
    STAFF_PASSWORD,
    api_body,
    clear_ambulante_environment,
    days_from_today,
    hold,
    staff_account,
)
from tests.servers import HOST, SharedDatabase, read_back
from tests.test_concurrency import OFFERING, OVERLAPPING_HOLDS, REQUEST_TIMEOUT_S

UNIONS = 6  # requests for the same days, sent with the staff member's change
ROUNDS = 3
HOLDING = "status IN ('requested', 'confirmed')"


class Browser:
    """A staff member's browser against one server: cookies, CSRF tokens, redirects."""

    def __init__(self, port: int) -> None:
        self.base = f"http://{HOST}:{port}"
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))

    def get(self, path: str) -> str:
        with self.opener.open(self.base + path, timeout=REQUEST_TIMEOUT_S) as response:
            return response.read().decode()

    def token(self, path: str) -> str:
        match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', self.get(path))
        assert match, f"no CSRF token on {path}"
        return match[1]

    def post(self, path: str, form: dict[str, str], token: str) -> int:
        """The status of the answer once redirects are followed (200 when it succeeded)."""
        body = urllib.parse.urlencode({**form, "csrf_token": token}).encode()
        try:
            with self.opener.open(self.base + path, body, timeout=REQUEST_TIMEOUT_S) as reply:
                reply.read()
                return reply.status
        except urllib.error.HTTPError as error:
            return error.code

    def sign_in(self, email: str) -> None:
        form = {"email": email, "password": STAFF_PASSWORD, "next": "/staff/"}
        assert self.post("/staff/login", form, self.token("/staff/login")) == 200


def _request(port: int, body: dict[str, Any]) -> int:
    request = urllib.request.Request(
        f"http://{HOST}:{port}/api/v1/bookings",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT_S) as reply:
            return reply.status
    except urllib.error.HTTPError as error:
        return error.code


def _together(actions: list[Callable[[], int]]) -> list[int]:
    """Every action at once (a barrier releases them together)."""
    barrier = threading.Barrier(len(actions), timeout=REQUEST_TIMEOUT_S)

    def run(action: Callable[[], int]) -> int:
        barrier.wait()
        return action()

    with ThreadPoolExecutor(max_workers=len(actions)) as pool:
        return list(pool.map(run, actions, timeout=2 * REQUEST_TIMEOUT_S))


def _setting_up(database: SharedDatabase, start_server) -> tuple[Browser, int, Any]:  # type: ignore[no-untyped-def]
    """Two processes on one database, a staff member signed in on the first; unions send
    their requests to the second."""
    staff_port, union_port = start_server(database, "a"), start_server(database, "b")
    engine = create_engine(database.url)
    with Session(engine) as session:
        staff_account(session, "desk@centre.example", Role.STAFF)
    browser = Browser(staff_port)
    browser.sign_in("desk@centre.example")
    return browser, union_port, engine


def _held_on(engine: Any, start: dt.date) -> list[tuple[str, int]]:
    with engine.connect() as connection:
        return [
            tuple(row)
            for row in connection.execute(
                select(Booking.reference, Booking.unit_id).where(
                    Booking.start_date == start, text(HOLDING)
                )
            )
        ]


def _the_other_crate(engine: Any, start: dt.date) -> int:
    """The crate left free on the days whose one crate a union already holds."""
    (taken,) = {unit for _reference, unit in _held_on(engine, start)}
    with Session(engine) as session:
        offering = select(Unit.offering_id).where(Unit.id == taken).scalar_subquery()
        return session.scalar(select(Unit.id).where(Unit.offering_id == offering, Unit.id != taken))


def _unions_for(start: dt.date, end: dt.date, round_number: int) -> list[dict[str, Any]]:
    return [
        api_body(
            OFFERING,
            start=start,
            end=end,
            organization=f"Syndicat {round_number}-{number}",
            email=f"s{round_number}-{number}@example.org",
        )
        for number in range(UNIONS)
    ]


def _one_winner(
    browser: Browser,
    path: str,
    form: dict[str, str],
    token: str,
    union_port: int,
    round_number: int,
) -> None:
    """The staff member's form and the unions' requests for the same days, all at once:
    exactly one of them gets the last crate, every other one is refused."""
    start, end = dt.date.fromisoformat(form["start"]), dt.date.fromisoformat(form["end"])
    statuses = _together(
        [lambda: browser.post(path, form, token)]
        + [
            (lambda body=body: _request(union_port, body))
            for body in _unions_for(start, end, round_number)
        ]
    )
    staff_status, union_statuses = statuses[0], statuses[1:]
    winners = (staff_status == 200) + union_statuses.count(201)
    assert winners == 1, f"staff {staff_status}, unions {union_statuses}"
    assert staff_status in (200, 409) and set(union_statuses) <= {201, 409}


def test_staff_move_and_union_requests_never_both_take_the_last_crate(
    shared_database: SharedDatabase, start_server
) -> None:
    browser, union_port, engine = _setting_up(shared_database, start_server)
    try:
        for round_number in range(ROUNDS):
            start = days_from_today(60 + 40 * round_number)
            end = start + dt.timedelta(days=4)
            # One crate is already held on those days; the booking to move sits elsewhere.
            assert _request(union_port, api_body(OFFERING, start=start, end=end)) == 201
            elsewhere = start + dt.timedelta(days=20)
            assert _request(union_port, api_body(OFFERING, start=elsewhere)) == 201
            ((moving, _unit),) = _held_on(engine, elsewhere)
            free_unit = _the_other_crate(engine, start)
            move = {"start": start.isoformat(), "end": end.isoformat(), "unit": str(free_unit)}
            token = browser.token(f"/staff/bookings/{moving}")
            _one_winner(
                browser, f"/staff/bookings/{moving}/move", move, token, union_port, round_number
            )
            assert len(_held_on(engine, start)) == 2  # both crates, never three holds
        assert read_back(shared_database.url, OVERLAPPING_HOLDS) == []
    finally:
        engine.dispose()


BLACKOUTS_UNDER_HOLDS = text(
    "SELECT b.reference FROM bookings b JOIN blackouts x "
    "ON (x.unit_id = b.unit_id OR x.offering_id = b.offering_id) "
    f"WHERE b.{HOLDING} AND x.start_date <= b.blocked_end AND x.end_date >= b.blocked_start"
)


def test_blackout_and_union_requests_never_both_take_the_last_crate(
    shared_database: SharedDatabase, start_server
) -> None:
    browser, union_port, engine = _setting_up(shared_database, start_server)
    try:
        for round_number in range(ROUNDS):
            start = days_from_today(60 + 40 * round_number)
            end = start + dt.timedelta(days=4)
            assert _request(union_port, api_body(OFFERING, start=start, end=end)) == 201
            free_unit = _the_other_crate(engine, start)
            token = browser.token("/staff/blackouts")
            blackout = {
                "target": f"unit-{free_unit}",
                "start": start.isoformat(),
                "end": end.isoformat(),
                "reason": "Réparation des cadres",
            }
            _one_winner(browser, "/staff/blackouts", blackout, token, union_port, round_number)
        assert read_back(shared_database.url, BLACKOUTS_UNDER_HOLDS) == []
    finally:
        engine.dispose()


def test_staff_cannot_approve_a_request_the_union_is_cancelling_at_that_moment(
    shared_database: SharedDatabase, monkeypatch: Any
) -> None:
    """The union's cancel is written, not yet committed, when a staff member approves: the
    approval waits for it and is refused, instead of bringing the cancelled hold back."""
    clear_ambulante_environment(monkeypatch)
    app = create_app(
        {
            "TESTING": True,
            "DATA_DIR": shared_database.data_dir,
            "DATABASE_URL": shared_database.url,
            "SEED_DEMO": True,
        }
    )
    with session_for(app) as union, session_for(app) as staff:
        held = hold(union)
        booking_by_reference(staff, held.booking.reference)  # the desk's page had it loaded
        cancel_booking(union, held.manage_token, now_utc())
        answers: list[str] = []

        def approve() -> None:
            try:
                decide(staff, held.booking.reference, BookingStatus.CONFIRMED, "", "s", now_utc())
                answers.append("approved")
            except StatusChangeRefused:
                answers.append("refused")
            staff.rollback()

        approval = threading.Thread(target=approve)
        approval.start()
        approval.join(1)
        assert approval.is_alive()  # waiting on the union's change
        union.commit()
        approval.join(REQUEST_TIMEOUT_S)
        assert answers == ["refused"]
    engine_of(app).dispose()
