"""The booking rules, as staff and unions live them: holds, buffers, units, blackouts, lead time."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from booking.availability import day_states, next_windows
from booking.catalog import offering_by_slug
from booking.errors import DatesTaken, InvalidBooking, StatusChangeRefused
from booking.models import Blackout, Booking
from booking.service import cancel_booking, change_status
from booking.status import BookingStatus
from tests.factories import days_from_today, hold, training_day

D = dt.timedelta


def test_union_gets_a_free_unit_and_a_readable_reference(session, today):
    held = hold(session, start=days_from_today(60))
    booking = held.booking
    assert booking.status == "requested"
    assert booking.reference.startswith(f"AMB-{today.year}-")
    assert booking.unit.name == "Caisse A"
    assert booking.manage_token_hash != held.manage_token  # only the hash is stored


def test_second_union_gets_the_second_crate_and_a_third_is_refused(session):
    start = days_from_today(60)
    first = hold(session, start=start).booking
    second = hold(session, start=start).booking
    assert {first.unit.name, second.unit.name} == {"Caisse A", "Caisse B"}
    with pytest.raises(DatesTaken) as refused:
        hold(session, start=start)
    assert refused.value.next_available, "a refusal always offers other windows"


def test_transit_days_around_a_booking_stay_free(session):
    # The outdoor set has one unit and 3 days of installation before and after a booking:
    # the next booking may start once 3 (after) + 3 (before) days have passed.
    first = days_from_today(90)
    last = first + D(9)
    hold(session, offering="expo-exterieure", start=first, end=last)
    too_close = last + D(6)
    with pytest.raises(DatesTaken):
        hold(session, offering="expo-exterieure", start=too_close, end=too_close + D(9))
    just_right = last + D(7)
    booked = hold(session, offering="expo-exterieure", start=just_right, end=just_right + D(9))
    assert booked.booking.blocked_start == last + D(4)


def test_requested_dates_are_held_until_staff_decide(session, today):
    start = training_day(60)
    hold(session, offering="formation-bd-textile", start=start, end=start)
    hold(session, offering="formation-bd-textile", start=start, end=start)
    offering = offering_by_slug(session, "formation-bd-textile")
    [day] = day_states(session, offering, start, start, today)
    assert day.status == "held"
    assert not day.bookable


def test_confirmed_bookings_show_as_booked(session, today):
    start = training_day(60)
    for _ in range(2):
        held = hold(session, offering="formation-bd-textile", start=start, end=start)
        held.booking.status = "confirmed"
    session.commit()
    offering = offering_by_slug(session, "formation-bd-textile")
    assert day_states(session, offering, start, start, today)[0].status == "booked"


def test_cancelling_frees_the_dates_at_once(session):
    start = days_from_today(60)
    held = hold(session, offering="expo-exterieure", start=start, end=start + D(9))
    with pytest.raises(DatesTaken):
        hold(session, offering="expo-exterieure", start=start, end=start + D(9))
    cancel_booking(session, held.manage_token, dt.datetime.now(dt.UTC))
    session.commit()
    again = hold(session, offering="expo-exterieure", start=start, end=start + D(9))
    assert again.booking.status == "requested"


def test_a_cancelled_request_cannot_be_cancelled_twice(session):
    held = hold(session)
    cancel_booking(session, held.manage_token, dt.datetime.now(dt.UTC))
    session.commit()
    with pytest.raises(StatusChangeRefused):
        cancel_booking(session, held.manage_token, dt.datetime.now(dt.UTC))


# The life of a booking as the centre describes it: (from, to) -> allowed.
LIFE_OF_A_BOOKING = {
    ("requested", "confirmed"): True,  # staff approve
    ("requested", "declined"): True,  # staff decline
    ("requested", "cancelled"): True,  # the union withdraws
    ("confirmed", "cancelled"): True,  # either side calls it off
    ("confirmed", "completed"): True,  # the exhibition came back
    ("requested", "completed"): False,  # never given, never completed
    ("confirmed", "declined"): False,  # a yes is not taken back as a no: cancel it
    ("declined", "confirmed"): False,
    ("declined", "cancelled"): False,
    ("cancelled", "confirmed"): False,  # a cancelled request's dates may be someone's now
    ("cancelled", "requested"): False,
    ("completed", "cancelled"): False,
    ("completed", "requested"): False,
}


STEPS_TO = {
    "requested": [],
    "confirmed": ["confirmed"],
    "completed": ["confirmed", "completed"],
    "declined": ["declined"],
    "cancelled": ["cancelled"],
}


def _booking_in(session, status: str) -> Booking:
    booking = hold(session).booking
    for step in STEPS_TO[status]:
        change_status(booking, BookingStatus(step), dt.datetime.now(dt.UTC))
    session.commit()
    return booking


@pytest.mark.parametrize(("before", "after"), list(LIFE_OF_A_BOOKING))
def test_a_booking_changes_status_only_as_its_life_allows(session, before, after):
    booking = _booking_in(session, before)
    if LIFE_OF_A_BOOKING[(before, after)]:
        change_status(booking, BookingStatus(after), dt.datetime.now(dt.UTC))
        session.commit()
        assert session.scalar(select(Booking.status).where(Booking.id == booking.id)) == after
        assert booking.holds_dates == (after in ("requested", "confirmed"))
    else:
        with pytest.raises(StatusChangeRefused):
            change_status(booking, BookingStatus(after), dt.datetime.now(dt.UTC))
        assert booking.status == before


def test_a_cancelled_booking_frees_its_dates_for_the_next_union(session):
    start = days_from_today(60)
    first = _booking_in(session, "confirmed")
    change_status(first, BookingStatus.CANCELLED, dt.datetime.now(dt.UTC))
    session.commit()
    assert first.cancelled_at is not None
    hold(session, start=start)
    hold(session, start=start)  # both crates again: the cancelled one no longer holds


def test_an_offering_blackout_blocks_every_unit(session):
    offering = offering_by_slug(session, "formation-bd-textile")
    day = training_day(60)
    session.add(Blackout(offering_id=offering.id, start_date=day, end_date=day, reason="Congé"))
    session.commit()
    with pytest.raises(DatesTaken) as refused:
        hold(session, offering="formation-bd-textile", start=day, end=day)
    assert refused.value.next_available[0].start == day + D(1)


def test_a_unit_blackout_leaves_the_other_unit_bookable(session):
    offering = offering_by_slug(session, "formation-bd-textile")
    day = training_day(60)
    team_one = offering.units[0]
    session.add(Blackout(unit_id=team_one.id, start_date=day, end_date=day, reason="Vacances"))
    session.commit()
    booking = hold(session, offering="formation-bd-textile", start=day, end=day).booking
    assert booking.unit_id == offering.units[1].id


def test_next_windows_have_the_same_length_and_skip_taken_dates(session, today):
    start = days_from_today(60)
    hold(session, offering="expo-exterieure", start=start, end=start + D(13))
    offering = offering_by_slug(session, "expo-exterieure")
    windows = next_windows(session, offering, 10, start, today)
    assert len(windows) == 3
    assert all(window.days == 10 for window in windows)
    # the first free start is after the booking, its 3 days after and the next 3 before
    assert windows[0].start == start + D(13) + D(7)
    assert windows[0].start < windows[1].start < windows[2].start


@pytest.mark.parametrize(
    ("offset", "length", "field"),
    [
        (-1, 5, "start"),  # in the past
        (10, 5, "start"),  # inside the 21-day lead time
        (60, 1, "end"),  # shorter than 3 days
        (60, 50, "end"),  # longer than 42 days
        (2000, 5, "start"),  # more than three years ahead
    ],
)
def test_rules_refuse_dates_outside_what_the_offering_allows(session, offset, length, field):
    start = days_from_today(offset)
    with pytest.raises(InvalidBooking) as refused:
        hold(session, start=start, end=start + D(length - 1))
    assert field in refused.value.errors
    assert session.scalar(select(Booking.id)) is None


def test_the_set_booked_says_whether_the_venue_is_indoor_or_outdoor(session):
    """No one is asked what the offering already answers: what a script sends is ignored."""
    assert hold(session, venue_setting="outdoor").booking.venue_setting == "indoor"
    start = days_from_today(200)
    outdoor = hold(session, offering="expo-exterieure", start=start, end=start + D(7))
    assert outdoor.booking.venue_setting == "outdoor"


def test_training_does_not_ask_the_exhibition_questions(session):
    start = training_day(60)
    booking = hold(session, offering="formation-bd-textile", start=start, end=start).booking
    assert booking.wall_metres is None


def test_exhibition_answers_sent_for_a_training_are_neither_checked_nor_kept(session):
    start = training_day(60)
    booking = hold(
        session,
        offering="formation-bd-textile",
        start=start,
        end=start,
        wall_metres=25,
        venue_setting="indoor",
        secure_storage=False,
    ).booking
    assert (booking.wall_metres, booking.venue_setting, booking.secure_storage) == (None,) * 3


def test_a_gap_shorter_than_the_shortest_booking_is_not_offered(session, today):
    # Outdoor set: one unit, at least 7 days, 3 days of installation on each side. With
    # 15 days between two bookings, a one-day stay fits in the middle, a 7-day one nowhere.
    first = days_from_today(90)
    hold(session, offering="expo-exterieure", start=first, end=first + D(6))
    second = first + D(6) + D(16)
    hold(session, offering="expo-exterieure", start=second, end=second + D(6))
    offering = offering_by_slug(session, "expo-exterieure")
    gap = [
        day for day in day_states(session, offering, first, second, today) if day.status == "free"
    ]
    assert gap, "the days between the buffers are free"
    assert not any(day.bookable for day in gap)
    with pytest.raises(DatesTaken):
        hold(session, offering="expo-exterieure", start=gap[0].date, end=gap[0].date + D(6))


def test_days_reachable_only_by_a_stay_starting_too_soon_are_not_offered(session, today):
    # Outdoor set: requests open 30 days ahead, 7 days at least, 3 days of installation.
    offering = offering_by_slug(session, "expo-exterieure")
    opens = today + D(offering.lead_days)
    hold(session, offering="expo-exterieure", start=opens + D(10), end=opens + D(16))
    # Starting on the first allowed day, a 7-day stay and its installation reach the hold.
    [first_day] = day_states(session, offering, opens, opens, today)
    assert first_day.status == "free" and not first_day.bookable
    with pytest.raises(DatesTaken):
        hold(session, offering="expo-exterieure", start=opens, end=opens + D(6))
