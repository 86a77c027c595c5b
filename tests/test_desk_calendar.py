"""The staff calendar and the itinerary: staff see each unit's bookings, transit days and
blackouts where they fall, move through the weeks without losing their place, and print where
each exhibition set goes next with the dates and contacts shipping needs."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from babel.dates import format_date
from sqlalchemy import event, select

from booking import timeline
from booking.decisions import decide
from booking.models import Blackout, Booking, Offering, Unit
from booking.status import BookingStatus
from core.clock import now_utc
from core.database import engine_of
from tests.factories import days_from_today, hold

EN = {"Accept-Language": "en"}
HTMX_TIMELINE = {"HX-Request": "true", "HX-Target": "timeline", **EN}


def in_english(day: dt.date, form: str = "long") -> str:
    return format_date(day, form, locale="en")


def monday_of(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def unit_rows(page: str) -> dict[str, str]:
    """The calendar's rows by unit name: what a person reads along one line."""
    rows = {}
    for row in page.split('<li class="timeline-row">')[1:]:
        name = re.search(r'<h3 class="timeline-name"[^>]*>([^<]+)', row)
        assert name
        rows[name[1].strip()] = row.split("</ol>")[0]
    return rows


def bar_of(row: str, text: str, kind: str = "timeline-booking") -> str:
    """The booking (or blackout) drawn on the row with `text` on it, tag and content."""
    for item in re.split(r"(?=<li )", row):
        if item.startswith(f'<li class="{kind} ') and text in item:
            return item
    raise AssertionError(f"{text!r} is not drawn on this row")


def unit_named(session, slug: str, name: str) -> Unit:
    return session.scalar(
        select(Unit).join(Offering).where(Offering.slug == slug, Unit.name == name)
    )


def staff_decide(session, booking: Booking, status: BookingStatus) -> None:
    decide(session, booking.reference, status, "", "marie@centre.example", now_utc())
    session.commit()


def test_staff_see_a_held_booking_on_its_units_row_with_transit_days_a_blackout_and_today(
    staff_client, session, today
):
    held = hold(session, start=days_from_today(30), organization="Syndicat des cols bleus")
    booking = held.booking
    crate_b = unit_named(session, "expo-interieure", "Caisse B")
    session.add(
        Blackout(
            unit_id=crate_b.id,
            start_date=days_from_today(10),
            end_date=days_from_today(12),
            reason="Réparation des cadres",
        )
    )
    session.commit()
    first = monday_of(today)

    page = staff_client.get(f"/staff/calendar?from={today.isoformat()}", headers=EN)

    assert page.status_code == 200
    rows = unit_rows(page.get_data(as_text=True))
    assert booking.unit.name == "Caisse A"
    bar = bar_of(rows["Caisse A"], "Syndicat des cols bleus")
    assert f"({booking.reference})" in bar
    assert "requested" in bar  # the status in words, not only as a colour
    assert "status-requested" in bar
    column = (booking.start_date - first).days + 1
    assert f"from-{column} for-5 " in bar  # five days, from its start date
    assert f'href="/staff/bookings/{booking.reference}"' in bar
    assert 'hx-target="#booking-detail"' in bar
    # Two days of transit and set-up, shaded before the booking's own days.
    assert re.search(rf'class="timeline-buffer from-{column - 2} for-2 ', rows["Caisse A"])
    blackout = bar_of(rows["Caisse B"], "Réparation des cadres", "timeline-blackout")
    assert "timeline-blackout" in blackout and "Blackout" in blackout
    assert "Syndicat des cols bleus" not in rows["Caisse B"]
    today_column = (today - first).days + 1
    assert f'class="timeline-today from-{today_column}"' in rows["Caisse A"]
    assert "is-today" in page.get_data(as_text=True)


def test_staff_open_a_booking_from_the_calendar_in_place(staff_client, session):
    booking = hold(session, start=days_from_today(30)).booking
    headers = {"HX-Request": "true", "HX-Target": "booking-detail", **EN}

    detail = staff_client.get(f"/staff/bookings/{booking.reference}", headers=headers)

    html = detail.get_data(as_text=True)
    assert booking.reference in html and "<html" not in html
    page = staff_client.get("/staff/calendar", headers=EN).get_data(as_text=True)
    assert 'id="booking-detail"' in page


def test_staff_move_the_calendar_forward_and_back(staff_client, session, today):
    later = hold(session, start=days_from_today(60), organization="Syndicat des débardeurs")
    start = today.isoformat()

    page = staff_client.get(f"/staff/calendar?from={start}", headers=EN).get_data(as_text=True)
    assert "<html" in page and 'id="timeline"' in page and "Syndicat des débardeurs" not in page
    next_url = re.search(r'id="timeline-next" href="([^"]+)"', page)[1].replace("&amp;", "&")
    assert 'hx-target="#timeline"' in page and 'hx-push-url="true"' in page

    forward = staff_client.get(next_url, headers=HTMX_TIMELINE).get_data(as_text=True)

    assert forward.startswith('<div id="timeline"') and "<html" not in forward
    assert "Syndicat des débardeurs" in forward and later.booking.reference in forward
    moved_to = monday_of(today + dt.timedelta(days=timeline.WEEKS_STEP_DAYS))
    assert f'class="timeline-range"><strong>{in_english(moved_to)} to ' in forward
    back_url = re.search(r'id="timeline-previous" href="([^"]+)"', forward)[1].replace("&amp;", "&")
    back = staff_client.get(back_url, headers=EN).get_data(as_text=True)
    assert "<html" in back and "Syndicat des débardeurs" not in back  # a whole page again
    assert f'class="timeline-range"><strong>{in_english(monday_of(today))} to ' in back


def test_staff_zoom_out_to_half_a_year(staff_client, session, today):
    far = hold(session, start=days_from_today(120), organization="Fédération des enseignants")

    weeks = staff_client.get("/staff/calendar", headers=EN).get_data(as_text=True)
    months = staff_client.get("/staff/calendar?view=months", headers=EN).get_data(as_text=True)

    assert "Fédération des enseignants" not in weeks and "days-42" in weeks
    assert "Fédération des enseignants" in months and "days-182" in months
    assert far.booking.reference in months


@pytest.mark.parametrize(
    ("query", "status", "message"),
    [
        ("from=2027-02-30", 400, "YYYY-MM-DD"),
        ("from=next-week", 400, "YYYY-MM-DD"),
        ("from=20270301", 400, "YYYY-MM-DD"),
        ("from=9999-12-31", 400, "choose a date between them"),
        ("from=0001-01-01", 400, "choose a date between them"),
        ("view=years", 400, "weeks or months"),
        ("view=months&from=2027-13-01", 400, "YYYY-MM-DD"),
        ("offering=nowhere", 404, "No offering is called “nowhere”"),
    ],
)
def test_staff_asking_the_calendar_for_something_it_cannot_show_are_told_why(
    staff_client, query, status, message
):
    response = staff_client.get(f"/staff/calendar?{query}", headers=EN)

    assert response.status_code == status
    assert message in response.get_data(as_text=True)


def test_bad_dates_on_the_itinerary_are_told_too(staff_client):
    response = staff_client.get("/staff/itinerary?from=demain", headers=EN)

    assert response.status_code == 400
    assert "YYYY-MM-DD" in response.get_data(as_text=True)


def test_declined_and_cancelled_requests_are_not_drawn(staff_client, session):
    kept = hold(session, start=days_from_today(30), organization="Syndicat retenu")
    declined = hold(session, start=days_from_today(30), organization="Syndicat refusé")
    cancelled = hold(session, start=days_from_today(40), organization="Syndicat désisté")
    staff_decide(session, kept.booking, BookingStatus.CONFIRMED)
    staff_decide(session, declined.booking, BookingStatus.DECLINED)
    staff_decide(session, cancelled.booking, BookingStatus.CANCELLED)

    page = staff_client.get(f"/staff/calendar?from={days_from_today(21)}", headers=EN)

    html = page.get_data(as_text=True)
    assert "Syndicat retenu" in html and "status-confirmed" in html
    assert "Syndicat refusé" not in html and "Syndicat désisté" not in html


def test_a_retired_unit_shows_only_where_it_has_bookings(staff_client, session):
    crate_b = unit_named(session, "expo-interieure", "Caisse B")
    crate_b.active = False
    session.commit()
    url = f"/staff/calendar?offering=expo-interieure&from={days_from_today(21)}"
    assert "Caisse B" not in unit_rows(staff_client.get(url).get_data(as_text=True))

    booking = hold(session, start=days_from_today(30), organization="Syndicat fidèle").booking
    booking.unit_id = crate_b.id  # booked before the crate was retired
    session.commit()

    rows = unit_rows(staff_client.get(url, headers=EN).get_data(as_text=True))
    assert "(retired)" in rows["Caisse B"] and "Syndicat fidèle" in rows["Caisse B"]


def test_the_calendar_reads_the_same_few_queries_whatever_the_bookings(app, staff_client, session):
    """Two years of bookings: only the days shown are read, in one query per kind."""
    crate_a = unit_named(session, "expo-interieure", "Caisse A")
    model = hold(session, start=days_from_today(30)).booking
    statements: list[str] = []
    event.listen(engine_of(app), "before_cursor_execute", lambda *args: statements.append(args[2]))
    url = f"/staff/calendar?view=months&from={days_from_today(0)}"
    staff_client.get(url)
    few = len(statements)
    start = days_from_today(-365)
    for week in range(104):  # a booking every week for two years
        begins = start + dt.timedelta(weeks=week)
        if model.blocked_start - dt.timedelta(days=7) <= begins <= model.blocked_end:
            continue
        session.add(
            Booking(
                **{
                    column: getattr(model, column)
                    for column in ("offering_id", "organization", "contact_name", "email")
                    + ("phone", "venue", "address", "city", "audience", "language")
                },
                unit_id=crate_a.id,
                reference=f"AMB-T-{week}",
                start_date=begins + dt.timedelta(days=1),
                end_date=begins + dt.timedelta(days=3),
                blocked_start=begins,
                blocked_end=begins + dt.timedelta(days=4),
                status=BookingStatus.COMPLETED if week < 52 else BookingStatus.CONFIRMED,
                manage_token_hash=f"{week:064d}",
                created_at=now_utc(),
            )
        )
    session.commit()
    statements.clear()

    page = staff_client.get(url).get_data(as_text=True)

    assert len(statements) == few
    assert page.count('class="timeline-booking ') > 20
    assert "AMB-T-0)" not in page  # a year ago: not read, not drawn


def test_staff_read_a_sets_venues_in_order_with_the_transfer_between_them(staff_client, session):
    first = hold(
        session,
        start=days_from_today(40),
        organization="Syndicat des cols bleus",
        venue="Salle des métallos",
        address="1601 av. De Lorimier",
        city="Montréal",
        contact_name="Ana Pérez",
        phone="514-383-2266",
    ).booking
    second = hold(
        session,
        start=days_from_today(60),
        organization="Syndicat des travailleuses du textile",
        venue="Maison du peuple",
        address="155 rue Principale",
        city="Sherbrooke",
        contact_name="Lucie Tremblay",
        phone="819-555-0142",
    ).booking
    assert first.unit_id == second.unit_id

    page = staff_client.get("/staff/itinerary", headers=EN).get_data(as_text=True)

    crate = page.split('id="itinerary-unit-')[1]  # Caisse A, the first set
    assert "Caisse A" in crate
    assert crate.index("Salle des métallos") < crate.index("Maison du peuple")
    transfer = re.search(
        r'<li class="itinerary-transfer">\s*<h3>Transfer: Salle des métallos, Montréal → '
        r"Maison du peuple, Sherbrooke</h3>(.*?)</li>",
        crate,
        re.S,
    )
    assert transfer, "no transfer between the two venues"
    leg = transfer[1]
    ships_out = in_english(first.end_date + dt.timedelta(days=1), "full")
    assert f"Ships out</dt><dd>{ships_out}</dd>" in leg
    assert f"Can arrive from</dt><dd>{in_english(second.blocked_start, 'full')}</dd>" in leg
    assert f"Must arrive by</dt><dd>{in_english(second.start_date, 'full')}</dd>" in leg
    for said in ("1601 av. De Lorimier, Montréal", "Ana Pérez", "514-383-2266"):
        assert said in leg
    for said in ("155 rue Principale, Sherbrooke", "Lucie Tremblay", "819-555-0142"):
        assert said in leg
    assert "Transfer: The centre → Salle des métallos, Montréal" in crate
    assert "Transfer: Maison du peuple, Sherbrooke → The centre" in crate


def test_anonymous_visitors_are_sent_to_sign_in(client):
    for path in ("/staff/calendar", "/staff/itinerary"):
        response = client.get(path)
        assert response.status_code in (302, 303)
        assert "/staff/login" in response.headers["Location"]
