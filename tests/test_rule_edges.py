"""The booking rules at their edges: the first and last days that may be asked for, the exact
words a union reads, races lost and retried, what is kept of each answer.

Each test here was written to kill a mutant of booking/service.py or booking/availability.py
that the rest of the suite let live (mutmut; see the closing note of the house issue)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import sqlite3

import pytest
from sqlalchemy import event, update
from sqlalchemy.exc import IntegrityError, OperationalError

from booking import availability
from booking.availability import (
    DayReason,
    Window,
    day_states,
    earliest_start,
    latest_start,
    next_windows,
)
from booking.catalog import active_offerings, offering_by_slug
from booking.errors import BookingNotFound, DatesTaken, StatusChangeRefused, UnknownOffering
from booking.models import MAX_BUFFER_DAYS, MAX_LENGTH_DAYS, Blackout, Booking, Offering
from booking.service import (
    _lost_a_race,
    booking_by_token,
    cancel_booking,
    change_status,
    check_dates,
    date_errors,
    hold_dates,
    question_errors,
    renew_manage_token,
)
from booking.status import BookingStatus
from tests.factories import days_from_today, hold, request_for, training_day

D = dt.timedelta


def test_offerings_are_listed_in_the_order_staff_gave_them(session):
    session.add(
        Offering(
            slug="premier",
            kind="training",
            title_fr="x",
            title_en="x",
            min_days=1,
            max_days=1,
            position=-1,
            active=True,
        )
    )
    session.commit()
    assert active_offerings(session)[0].slug == "premier"


def test_a_retired_offering_can_no_longer_be_asked_for(session):
    session.execute(update(Offering).where(Offering.slug == "expo-exterieure").values(active=False))
    session.commit()
    with pytest.raises(UnknownOffering) as unknown:
        offering_by_slug(session, "expo-exterieure")
    assert unknown.value.args == ("expo-exterieure",)


def test_an_offering_without_lead_time_takes_a_request_for_today(session, today):
    # Open on holidays too: today may be one.
    training = dataclasses.replace(
        offering_by_slug(session, "formation-bd-textile"), lead_days=0, closed_on_holidays=False
    )
    assert date_errors(training, today, today, today) == {}


def test_the_last_day_requests_are_taken_for_can_be_asked_and_is_offered(session, today):
    # Open on holidays: the last day may be one.
    training = dataclasses.replace(
        offering_by_slug(session, "formation-bd-textile"), closed_on_holidays=False
    )
    closes = latest_start(today)
    assert date_errors(training, closes, closes, today) == {}
    [day] = day_states(session, training, closes, closes, today)
    assert day.bookable
    # Never past it, even when fewer windows than asked for are left.
    assert next_windows(session, training, 1, closes, today) == [Window(closes, closes)]


def test_a_union_reads_exactly_what_is_wrong_with_its_dates(app, session, today):
    indoor = offering_by_slug(session, "expo-interieure")
    start, far = today + D(60), latest_start(today) + D(1)
    said = {
        "lead": date_errors(indoor, today + D(10), today + D(14), today)["start"],
        "horizon": date_errors(indoor, far, far + D(4), today)["start"],
        "order": date_errors(indoor, start, start - D(1), today)["end"],
        "short": date_errors(indoor, start, start + D(1), today)["end"],
        "long": date_errors(indoor, start, start + D(42), today)["end"],
    }
    with app.test_request_context(headers={"Accept-Language": "en"}):  # the reader's language
        read = {key: str(message) for key, message in said.items()}
    opens = today + D(21)
    assert read == {
        "lead": "Requests must be made 21 days ahead: the earliest start is "
        f"{opens:%B} {opens.day}, {opens.year}.",
        "horizon": "We take requests up to 3 years ahead.",
        "order": "The last day must be on or after the first day.",
        "short": "This offering is booked for at least 3 days.",
        "long": "This offering is booked for at most 42 days.",
    }


def test_a_union_reads_exactly_which_answer_its_offering_needs(session):
    indoor = offering_by_slug(session, "expo-interieure")
    outdoor = offering_by_slug(session, "expo-exterieure")
    training = offering_by_slug(session, "formation-bd-textile")
    nothing = {
        name: None
        for name in (
            "audience",
            "participants",
            "start_time",
            "wall_metres",
            "secure_storage",
            "site_ground",
            "site_permits",
            "site_power",
            "site_guard",
        )
    }

    def missing(offering, slug: str) -> dict[str, str]:
        request = request_for(slug, **nothing)
        return {key: str(value) for key, value in question_errors(offering, request).items()}

    assert missing(indoor, "expo-interieure") == {
        "audience": "This field is required.",
        "wall_metres": "Tell us how many metres of wall the portraits can hang on.",
        "secure_storage": "Tell us whether the crates can be stored securely.",
    }
    assert missing(outdoor, "expo-exterieure") == {
        "audience": "This field is required.",
        "site_ground": "Tell us what the panels will stand on.",
        "site_permits": "Tell us where the permits for the site stand.",
        "site_power": "Tell us whether there is electrical power on the site.",
        "site_guard": "Tell us who watches over the panels at night.",
    }
    assert missing(training, "formation-bd-textile") == {
        "start_time": "Tell us at what time the training starts.",
        "participants": "Tell us how many people will take part.",
    }


def test_the_live_check_says_not_free_for_broken_rules_and_for_taken_dates(session, today):
    outdoor = offering_by_slug(session, "expo-exterieure")
    assert check_dates(session, outdoor, today - D(1), today + D(6), today).free is False
    start = days_from_today(60)
    hold(session, offering="expo-exterieure", start=start, end=start + D(6))
    assert check_dates(session, outdoor, start, start + D(6), today).free is False


@pytest.mark.parametrize(
    "lost",
    [
        OperationalError("INSERT", {}, sqlite3.OperationalError("database is locked")),
        IntegrityError("INSERT", {}, sqlite3.IntegrityError("booking_holds_overlap")),
    ],
    ids=["database-busy", "overlap-committed-first"],
)
def test_a_union_losing_a_race_once_is_held_on_the_next_try(session, monkeypatch, today, lost):
    real_flush, failures = session.flush, [lost]

    def flush(*args, **kwargs):  # type: ignore[no-untyped-def]
        if failures and any(isinstance(new, Booking) for new in session.new):
            raise failures.pop()
        return real_flush(*args, **kwargs)

    monkeypatch.setattr(session, "flush", flush)
    held = hold_dates(session, request_for(), today, dt.datetime.now(dt.UTC))
    assert held.booking.reference and not failures


class PostgresExclusion(Exception):
    sqlstate = "23P01"  # what psycopg raises for the exclusion constraint


def test_only_an_overlap_or_contention_counts_as_a_lost_race():
    overlap = 'conflicting key value violates exclusion constraint "bookings_holds_no_overlap"'
    assert _lost_a_race(IntegrityError("INSERT", {}, PostgresExclusion(overlap)))
    broken_rule = sqlite3.IntegrityError("CHECK constraint failed: booking_dates")
    assert not _lost_a_race(IntegrityError("INSERT", {}, broken_rule))


def test_an_exhibition_keeps_the_venue_answers(session):
    booking = hold(session).booking
    session.expire_all()
    assert (booking.wall_metres, booking.venue_setting, booking.secure_storage) == (
        25,
        "indoor",
        True,
    )


def test_a_cancellation_records_when(session):
    held, now = hold(session), dt.datetime.now(dt.UTC)
    assert cancel_booking(session, held.manage_token, now).cancelled_at == now


def test_another_offerings_holds_leave_this_one_free(session, today):
    start = training_day(60)
    hold(session, offering="formation-bd-textile", start=start, end=start)
    [day] = day_states(session, offering_by_slug(session, "expo-exterieure"), start, start, today)
    assert day.status == "free"


def test_a_day_asked_alone_in_a_gap_too_short_is_not_bookable(session, today):
    start = days_from_today(90)
    hold(session, offering="expo-exterieure", start=start, end=start + D(6))
    hold(session, offering="expo-exterieure", start=start + D(20), end=start + D(26))
    outdoor = offering_by_slug(session, "expo-exterieure")
    [day] = day_states(session, outdoor, start + D(13), start + D(13), today)
    assert day.status == "free" and not day.bookable


def test_an_exhibition_day_with_room_around_it_is_bookable(session, today):
    start = days_from_today(60)
    [day] = day_states(session, offering_by_slug(session, "expo-interieure"), start, start, today)
    assert day.bookable


@pytest.mark.parametrize("days_after_the_limit", [1, 5])
def test_a_blackout_just_past_the_limit_is_never_suggested_over(
    session, today, days_after_the_limit
):
    outdoor, closes = offering_by_slug(session, "expo-exterieure"), latest_start(today)
    blocked = closes + D(days_after_the_limit)
    session.add(Blackout(offering_id=outdoor.id, start_date=blocked, end_date=blocked, reason="x"))
    session.commit()
    assert next_windows(session, outdoor, 7, closes, today) == []
    with pytest.raises(DatesTaken) as taken:
        hold(session, offering="expo-exterieure", start=closes, end=closes + D(6))
    assert Window(closes, closes + D(6)) not in taken.value.next_available


def test_private_links_carry_32_random_bytes(session):
    held = hold(session)
    renewed = renew_manage_token(session, held.booking.reference)
    assert len(held.manage_token) == len(renewed.manage_token) == 43  # 256 bits, base64


def test_a_link_too_short_or_too_long_is_refused_without_asking_the_database(session):
    asked: list[object] = []
    event.listen(session, "do_orm_execute", asked.append)
    for token in ("", "x" * 200, "x" * 201):
        with pytest.raises(BookingNotFound):
            booking_by_token(session, token)
    assert len(asked) == 1  # the 200-character one only


def test_a_refused_change_of_status_says_from_what_to_what(session):
    booking = hold(session).booking
    change_status(booking, BookingStatus.CANCELLED, dt.datetime.now(dt.UTC))
    with pytest.raises(StatusChangeRefused) as refused:
        change_status(booking, BookingStatus.CONFIRMED, dt.datetime.now(dt.UTC))
    assert (refused.value.current, refused.value.wanted) == ("cancelled", "confirmed")


def test_the_api_answers_up_to_the_end_of_the_longest_last_booking(client, today):
    last = latest_start(today) + D(days=MAX_LENGTH_DAYS + MAX_BUFFER_DAYS)
    url = "/api/v1/availability?offering=expo-interieure&start={0}&end={0}"
    assert client.get(url.format(last.isoformat())).status_code == 200
    assert client.get(url.format((last + D(1)).isoformat())).status_code == 422


def test_a_day_between_two_blackouts_fits_a_one_day_training_not_a_two_day_one(session, today):
    training = offering_by_slug(session, "formation-bd-textile")  # no buffers, one day
    day = training_day(60)
    for blocked in (day - D(1), day + D(1)):
        session.add(
            Blackout(offering_id=training.id, start_date=blocked, end_date=blocked, reason="x")
        )
    session.commit()
    [fits] = day_states(session, training, day, day, today)
    [short] = day_states(session, dataclasses.replace(training, min_days=2), day, day, today)
    assert (fits.bookable, fits.reason) == (True, DayReason.FREE)
    assert (short.bookable, short.reason) == (False, DayReason.GAP_TOO_SHORT)


def test_the_calendar_says_too_soon_today_and_too_far_past_the_limit(session, today):
    training = offering_by_slug(session, "formation-bd-textile")  # 14 days' lead
    after = latest_start(today) + D(1)
    [first] = day_states(session, training, today, today, today)
    [beyond] = day_states(session, training, after, after, today)
    assert (first.reason, first.bookable) == (DayReason.TOO_SOON, False)
    assert (beyond.reason, beyond.bookable) == (DayReason.TOO_FAR, False)
    no_lead = dataclasses.replace(training, lead_days=0)
    assert day_states(session, no_lead, today, today, today)[0].bookable


def test_windows_are_found_past_two_fully_blocked_months(session, today):
    training = offering_by_slug(session, "formation-bd-textile")
    opens = earliest_start(training, today)
    session.add(
        Blackout(offering_id=training.id, start_date=opens, end_date=opens + D(100), reason="x")
    )
    session.commit()
    free = [opens + D(101 + n) for n in range(3)]
    assert next_windows(session, training, 1, opens, today) == [Window(d, d) for d in free]


def test_free_windows_soon_are_found_in_one_short_read(session, today, monkeypatch):
    training = offering_by_slug(session, "formation-bd-textile")
    reads: list[tuple[object, ...]] = []
    real = availability.blocks_by_unit

    def counted(*args):  # type: ignore[no-untyped-def]
        reads.append(args)
        return real(*args)

    monkeypatch.setattr(availability, "blocks_by_unit", counted)
    assert len(next_windows(session, training, 1, earliest_start(training, today), today)) == 3
    assert len(reads) == 1
