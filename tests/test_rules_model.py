"""Random requests, cancellations and blackouts: the real rules agree with a plain model."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from flask import Flask
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import delete, select, update

from booking.availability import day_states
from booking.errors import DatesTaken, InvalidBooking, StatusChangeRefused
from booking.models import Blackout, Booking, Offering, Unit
from booking.service import cancel_booking, hold_dates
from core.clock import today_local
from core.database import session_for
from tests.factories import request_for

SLUG = "atelier-modele"
# Small numbers so requests collide often: two active units, uneven buffers (a swap of
# "before" and "after" shows), a short lead time, lengths of one to five days.
BUFFER_BEFORE = 2
BUFFER_AFTER = 1
LEAD_DAYS = 2
MAX_DAYS = 5
LAST_OFFSET = 45  # requests and blackouts start within this many days of today
# The calendar compared after every step: everything a hold or a blackout can touch.
CALENDAR_FROM = -BUFFER_AFTER - 2
CALENDAR_TO = LAST_OFFSET + MAX_DAYS + BUFFER_BEFORE + 2
SUGGESTION_SEARCH_DAYS = 400

starts = st.integers(LEAD_DAYS, LAST_OFFSET)
lengths = st.integers(1, MAX_DAYS)
allowed_dates = st.tuples(starts, lengths)
forbidden_dates = st.one_of(
    st.tuples(st.integers(-3, LEAD_DAYS - 1), lengths),  # past, or inside the lead time
    st.tuples(starts, st.sampled_from([0, -2, MAX_DAYS + 1, MAX_DAYS + 3])),  # bad length
)
BLACKOUT_TARGETS = ("whole offering", "first unit", "second unit", "retired unit", "other offering")


@dataclass(frozen=True)
class Place:
    """The dedicated offering, its units in the order a union's request tries them."""

    offering_id: int
    unit_ids: tuple[int, ...]  # active units, by position
    retired_unit_id: int
    other_offering_id: int
    today: dt.date


@dataclass
class ModelBooking:
    unit_id: int
    start: dt.date
    end: dt.date
    token: str
    status: str = "requested"

    @property
    def holds(self) -> bool:
        return self.status in ("requested", "confirmed")


@dataclass(frozen=True)
class ModelBlock:
    first: dt.date
    last: dt.date
    kind: str  # "requested", "confirmed" or "blackout"


def unit_state(blocks: list[ModelBlock], start: dt.date, end: dt.date) -> str:
    """free, held (only requests in the way) or booked, for a stay from start to end."""
    first = start - dt.timedelta(days=BUFFER_BEFORE)
    last = end + dt.timedelta(days=BUFFER_AFTER)
    kinds = {b.kind for b in blocks if b.first <= last and first <= b.last}
    if not kinds:
        return "free"
    return "held" if kinds == {"requested"} else "booked"


def day_status(blocks: dict[int, list[ModelBlock]], day: dt.date) -> str:
    """Free when some unit could take a one-day stay; held when a request is all that stops one."""
    states = {unit_state(unit_blocks, day, day) for unit_blocks in blocks.values()}
    if "free" in states:
        return "free"
    return "held" if "held" in states else "booked"


def _open_small_offering(app: Flask) -> Place:
    """A training with three units whose ids run against their positions, one retired."""
    with session_for(app) as session:
        offering = Offering(
            slug=SLUG,
            kind="training",
            title_fr="Atelier modèle",
            title_en="Model workshop",
            buffer_before_days=BUFFER_BEFORE,
            buffer_after_days=BUFFER_AFTER,
            min_days=1,
            max_days=MAX_DAYS,
            lead_days=LEAD_DAYS,
            position=9,
            active=True,
        )
        second = Unit(name="Équipe sud", position=2, active=True)
        first = Unit(name="Équipe nord", position=0, active=True)
        retired = Unit(name="Équipe en congé", position=1, active=False)
        offering.units = [second, first, retired]
        session.add(offering)
        session.commit()
        other = session.scalar(select(Offering.id).where(Offering.slug == "formation-bd-textile"))
        assert other is not None
        return Place(offering.id, (first.id, second.id), retired.id, other, today_local())


class BookingRules(RuleBasedStateMachine):
    """The real rules on a real database, next to lists of intervals per unit."""

    def __init__(self, app: Flask, place: Place) -> None:
        super().__init__()
        self.app = app
        self.place = place
        self.today = place.today
        self.bookings: list[ModelBooking] = []
        self.blackouts: list[tuple[int | None, int | None, dt.date, dt.date]] = []
        with session_for(app) as session:
            session.execute(delete(Booking).where(Booking.offering_id == place.offering_id))
            session.execute(delete(Blackout))
            session.commit()

    def day(self, offset: int) -> dt.date:
        return self.today + dt.timedelta(days=offset)

    # -- the model ---------------------------------------------------------------------------

    def blocks(self) -> dict[int, list[ModelBlock]]:
        """Per active unit: each holding booking widened by the buffers, and each blackout."""
        blocks: dict[int, list[ModelBlock]] = {unit_id: [] for unit_id in self.place.unit_ids}
        for b in self.bookings:
            if b.holds:
                blocks[b.unit_id].append(
                    ModelBlock(
                        b.start - dt.timedelta(days=BUFFER_BEFORE),
                        b.end + dt.timedelta(days=BUFFER_AFTER),
                        b.status,
                    )
                )
        for offering_id, unit_id, first, last in self.blackouts:
            for target in blocks:
                if target == unit_id or offering_id == self.place.offering_id:
                    blocks[target].append(ModelBlock(first, last, "blackout"))
        return blocks

    def first_free_unit(
        self, start: dt.date, end: dt.date, blocks: dict[int, list[ModelBlock]] | None = None
    ) -> int | None:
        blocks = self.blocks() if blocks is None else blocks
        for unit_id in self.place.unit_ids:
            if unit_state(blocks[unit_id], start, end) == "free":
                return unit_id
        return None

    # -- what users do -----------------------------------------------------------------------

    def request(self, first: dt.date, last: dt.date) -> None:
        """A union asks for first..last; the rules and the model must give the same answer."""
        days = (last - first).days + 1
        allowed = first >= self.day(LEAD_DAYS) and 1 <= days <= MAX_DAYS
        expected_unit = self.first_free_unit(first, last) if allowed else None
        with session_for(self.app) as session:
            try:
                held = hold_dates(
                    session, request_for(SLUG, first, last), self.today, dt.datetime.now(dt.UTC)
                )
                session.commit()
            except InvalidBooking as invalid:
                assert not allowed, f"{first}..{last} refused as invalid: {sorted(invalid.errors)}"
                assert set(invalid.errors) <= {"start", "end"}
                return
            except DatesTaken as taken:
                assert allowed, f"{first}..{last} breaks the date rules but was checked for room"
                assert expected_unit is None, (
                    f"refused {first}..{last} though unit {expected_unit} is free"
                )
                self.check_suggestions(first, days, taken.next_available)
                return
            assert allowed, f"held {first}..{last} against the date rules"
            assert expected_unit is not None, f"held {first}..{last} on a unit that is not free"
            assert held.booking.unit_id == expected_unit, "not the first free unit in order"
            assert (held.booking.blocked_start, held.booking.blocked_end) == (
                first - dt.timedelta(days=BUFFER_BEFORE),
                last + dt.timedelta(days=BUFFER_AFTER),
            )
            assert held.booking.status == "requested"
        self.bookings.append(ModelBooking(expected_unit, first, last, held.manage_token))

    @rule(dates=st.one_of(allowed_dates, forbidden_dates))
    def union_requests_dates(self, dates: tuple[int, int]) -> None:
        start, days = dates
        self.request(self.day(start), self.day(start + days - 1))

    @precondition(lambda self: self.bookings or self.blackouts)
    @rule(data=st.data())
    def union_requests_dates_right_beside_a_hold(self, data: st.DataObject) -> None:
        # Random starts rarely land on the edge of a buffer; these do, on either side.
        edges = [(b.start, b.end) for b in self.bookings] + [
            (first + dt.timedelta(days=BUFFER_BEFORE), last - dt.timedelta(days=BUFFER_AFTER))
            for _offering, _unit, first, last in self.blackouts
        ]
        hold_start, hold_end = data.draw(st.sampled_from(edges), label="beside")
        days = data.draw(lengths, label="days")
        gap = dt.timedelta(days=BUFFER_BEFORE + BUFFER_AFTER + data.draw(st.integers(-1, 1)))
        if data.draw(st.booleans(), label="after it"):
            first = hold_end + gap
        else:
            first = hold_start - gap - dt.timedelta(days=days - 1)
        self.request(first, first + dt.timedelta(days=days - 1))

    @precondition(lambda self: any(b.holds for b in self.bookings))
    @rule(data=st.data())
    def union_cancels(self, data: st.DataObject) -> None:
        booking = data.draw(st.sampled_from([b for b in self.bookings if b.holds]))
        with session_for(self.app) as session:
            cancelled = cancel_booking(session, booking.token, dt.datetime.now(dt.UTC))
            session.commit()
            assert cancelled.status == "cancelled"
        booking.status = "cancelled"

    @precondition(lambda self: any(not b.holds for b in self.bookings))
    @rule(data=st.data())
    def union_cannot_cancel_twice(self, data: st.DataObject) -> None:
        booking = data.draw(st.sampled_from([b for b in self.bookings if not b.holds]))
        with session_for(self.app) as session, pytest.raises(StatusChangeRefused):
            cancel_booking(session, booking.token, dt.datetime.now(dt.UTC))

    @precondition(lambda self: any(b.status == "requested" for b in self.bookings))
    @rule(data=st.data())
    def staff_confirms(self, data: st.DataObject) -> None:
        # A plain row update until the staff decision has its service function.
        requested = [b for b in self.bookings if b.status == "requested"]
        booking = data.draw(st.sampled_from(requested), label="booking")
        with session_for(self.app) as session:
            session.execute(
                update(Booking)
                .where(
                    Booking.unit_id == booking.unit_id,
                    Booking.start_date == booking.start,
                    Booking.status == "requested",
                )
                .values(status="confirmed")
            )
            session.commit()
        booking.status = "confirmed"

    @rule(
        start=st.integers(0, CALENDAR_TO),
        days=st.integers(1, 4),
        on=st.sampled_from(BLACKOUT_TARGETS),
    )
    def staff_blacks_out(self, start: int, days: int, on: str) -> None:
        # A plain row, as staff's calendar would add it: no service function yet.
        offering_id, unit_id = {
            "whole offering": (self.place.offering_id, None),
            "first unit": (None, self.place.unit_ids[0]),
            "second unit": (None, self.place.unit_ids[1]),
            "retired unit": (None, self.place.retired_unit_id),
            "other offering": (self.place.other_offering_id, None),
        }[on]
        first, last = self.day(start), self.day(start + days - 1)
        with session_for(self.app) as session:
            session.add(
                Blackout(
                    offering_id=offering_id,
                    unit_id=unit_id,
                    start_date=first,
                    end_date=last,
                    reason="test",
                )
            )
            session.commit()
        self.blackouts.append((offering_id, unit_id, first, last))

    # -- what users see ----------------------------------------------------------------------

    def check_suggestions(self, first: dt.date, days: int, windows: list) -> None:
        """Every "next available" window is really free, as long as asked, and not earlier."""
        assert windows, f"no suggestion after {first} for {days} days"
        assert len(windows) == 3
        assert [w.start for w in windows] == sorted({w.start for w in windows})
        blocks = self.blocks()
        for window in windows:
            assert window.days == days, f"{window} is not {days} days long"
            assert window.start >= first, f"{window} starts before the asked {first}"
            assert self.first_free_unit(window.start, window.end, blocks) is not None, (
                f"{window} is suggested but no unit is free then"
            )
        earliest = next(
            day
            for day in (first + dt.timedelta(days=n) for n in range(SUGGESTION_SEARCH_DAYS))
            if self.first_free_unit(day, day + dt.timedelta(days=days - 1), blocks) is not None
        )
        assert windows[0].start == earliest, f"first suggestion {windows[0]}, free from {earliest}"

    @invariant()
    def calendar_shows_what_the_model_holds(self) -> None:
        first, last = self.day(CALENDAR_FROM), self.day(CALENDAR_TO)
        opens = self.day(LEAD_DAYS)
        with session_for(self.app) as session:
            offering = session.get(Offering, self.place.offering_id)
            assert offering is not None
            shown = day_states(session, offering, first, last, self.today)
        blocks = self.blocks()
        expected = []
        day = first
        while day <= last:
            status = day_status(blocks, day)
            expected.append((day, status, status == "free" and day >= opens))
            day += dt.timedelta(days=1)
        assert [(d.date, d.status, d.bookable) for d in shown] == expected

    @invariant()
    def database_holds_what_the_model_holds(self) -> None:
        with session_for(self.app) as session:
            rows = session.execute(
                select(Booking.unit_id, Booking.start_date, Booking.end_date, Booking.status).where(
                    Booking.offering_id == self.place.offering_id
                )
            ).all()
        assert sorted(rows) == sorted((b.unit_id, b.start, b.end, b.status) for b in self.bookings)


def test_requests_cancellations_and_blackouts_follow_the_written_rules(app: Flask) -> None:
    place = _open_small_offering(app)
    with app.app_context():
        run_state_machine_as_test(
            lambda: BookingRules(app, place),
            # The loaded profile (tests/conftest.py): a quick look locally, the full run in CI.
            settings=settings(),
        )
