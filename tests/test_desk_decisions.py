"""Staff decide requests from the desk: approve, decline, cancel, mark returned, move, keep
notes; every change tells the union, frees or takes dates, and is in the log."""

from __future__ import annotations

import datetime as dt
import email
from email import policy

from icalendar import Calendar
from sqlalchemy import select

from booking import dashboard
from booking.models import Blackout, Booking
from booking.status import BookingStatus
from core.clock import now_utc
from core.models import OutboxMessage
from tests.factories import days_from_today, hold, post_form, staff_post, training_day

EN = {"Accept-Language": "en"}


def _mail_to(session, address: str) -> list[email.message.EmailMessage]:
    session.expire_all()
    rows = session.scalars(
        select(OutboxMessage.raw)
        .where(OutboxMessage.recipient == address)
        .order_by(OutboxMessage.id)
    )
    return [email.message_from_string(raw, policy=policy.default) for raw in rows]


def _calendar_of(message) -> Calendar | None:  # type: ignore[no-untyped-def]
    for part in message.walk():
        if part.get_content_type() == "text/calendar":
            return Calendar.from_ical(part.get_payload(decode=True))
    return None


def _decide(client, reference: str, decision: str, message: str = "", **kwargs):  # type: ignore[no-untyped-def]
    return staff_post(
        client,
        f"/staff/bookings/{reference}/decision",
        {"decision": decision, "message": message},
        **kwargs,
    )


def test_staff_approve_from_the_dashboard_and_the_union_gets_its_calendar(
    staff_client, client, session
):
    held = hold(session, language="en", email="local301@example.org")
    reference = held.booking.reference
    dashboard = staff_client.get("/staff/", headers=EN).get_data(as_text=True)
    assert (
        reference in dashboard
        and "Running metres of wall available: 25" in dashboard
        and "indoor" in dashboard
    )

    response = _decide(
        staff_client,
        reference,
        "confirmed",
        "See you in the spring!",
        headers={"HX-Request": "true", "HX-Target": f"pending-{held.booking.id}", **EN},
    )
    assert response.status_code == 200
    fragment = response.get_data(as_text=True)
    assert fragment.lstrip().startswith("<li") and "confirmed" in fragment  # the row only

    (told,) = _mail_to(session, "local301@example.org")
    assert told["Subject"] == f"Your booking {reference} is confirmed"
    assert "See you in the spring!" in told.get_body(("plain",)).get_content()
    event = _calendar_of(told).walk("VEVENT")[0]
    assert str(event["STATUS"]) == "CONFIRMED" and int(event["SEQUENCE"]) == 1
    assert str(event["UID"]) == f"{reference}@ambulante"

    private = client.get(f"/bookings/{held.manage_token}", headers=EN).get_data(as_text=True)
    assert "confirmed" in private and "See you in the spring!" in private
    assert "internal" not in private.lower()


def test_declining_frees_the_dates_and_tells_the_union_in_its_language(
    staff_client, client, session
):
    start = days_from_today(70)
    held = hold(session, start=start, email="syndicat@example.org")
    hold(session, start=start, email="second@example.org")  # the other crate
    response = _decide(staff_client, held.booking.reference, "declined", "Trop court.")
    assert response.status_code == 303
    (declined,) = _mail_to(session, "syndicat@example.org")
    assert declined["Subject"] == f"Votre demande {held.booking.reference} n'a pas été retenue"
    assert "Trop court." in declined.get_body(("plain",)).get_content()
    assert _calendar_of(declined) is None
    # The crate is free again: another union gets those very dates.
    again = post_form(client, "/book/expo-interieure", _form_for(start), headers=EN)
    assert again.status_code == 303


def _form_for(start: dt.date) -> dict[str, str]:
    from tests.factories import form_data

    return form_data(start=start, end=start + dt.timedelta(days=4), email="third@example.org")


def test_a_decision_that_no_longer_applies_is_refused_and_changes_nothing(staff_client, session):
    held = hold(session)
    reference = held.booking.reference
    assert _decide(staff_client, reference, "declined").status_code == 303
    refused = _decide(staff_client, reference, "confirmed", headers=EN)
    assert refused.status_code == 409
    assert "that decision no longer applies" in refused.get_data(as_text=True)
    session.expire_all()
    assert session.get(Booking, held.booking.id).status == BookingStatus.DECLINED
    assert _decide(staff_client, reference, "sideways", headers=EN).status_code == 422
    assert _decide(staff_client, "AMB-1999-0001", "confirmed").status_code == 404


def test_staff_cancel_for_the_union_and_mark_a_returned_exhibition(staff_client, session):
    cancelled = hold(session, start=days_from_today(80), email="a@example.org")
    assert _decide(staff_client, cancelled.booking.reference, "cancelled").status_code == 303
    (told,) = _mail_to(session, "a@example.org")
    assert told["Subject"] == f"Votre réservation {cancelled.booking.reference} est annulée"
    returned = hold(session, start=days_from_today(120), email="b@example.org")
    reference = returned.booking.reference
    # Only a confirmed booking comes back: a request cannot be marked returned.
    assert _decide(staff_client, reference, "completed").status_code == 409
    assert _decide(staff_client, reference, "confirmed").status_code == 303
    assert _decide(staff_client, reference, "completed").status_code == 303
    session.expire_all()
    assert session.get(Booking, returned.booking.id).status == BookingStatus.COMPLETED
    assert len(_mail_to(session, "b@example.org")) == 1  # the confirmation; no mail on return


def _move(client, reference: str, start: dt.date, end: dt.date, unit: int, **kwargs):  # type: ignore[no-untyped-def]
    form = {"start": start.isoformat(), "end": end.isoformat(), "unit": str(unit)}
    return staff_post(client, f"/staff/bookings/{reference}/move", form, **kwargs)


def test_staff_move_a_booking_and_the_union_gets_the_updated_calendar(staff_client, session):
    held = hold(session, start=days_from_today(90), email="moved@example.org")
    booking = held.booking
    start = days_from_today(150)
    response = _move(
        staff_client, booking.reference, start, start + dt.timedelta(days=6), booking.unit_id
    )
    assert response.status_code == 303
    session.expire_all()
    moved = session.get(Booking, booking.id)
    assert (moved.start_date, moved.end_date) == (start, start + dt.timedelta(days=6))
    assert moved.blocked_start == start - dt.timedelta(days=2)  # the offering's buffers
    told = _mail_to(session, "moved@example.org")[-1]
    event = _calendar_of(told).walk("VEVENT")[0]
    assert event.decoded("DTSTART") == start and int(event["SEQUENCE"]) == 1
    history = staff_client.get(f"/staff/bookings/{booking.reference}", headers=EN)
    assert start.isoformat() in history.get_data(as_text=True)


def test_a_move_over_another_hold_or_a_blackout_is_refused_naming_it(staff_client, session):
    start = days_from_today(100)
    first = hold(session, start=start, organization="Syndicat des traductrices").booking
    other = hold(session, start=days_from_today(200)).booking
    refused = _move(
        staff_client,
        other.reference,
        start,
        start + dt.timedelta(days=4),
        first.unit_id,
        headers=EN,
    )
    assert refused.status_code == 409
    page = refused.get_data(as_text=True)
    assert first.reference in page and "Syndicat des traductrices" in page

    closed = days_from_today(300)
    session.add(
        Blackout(
            unit_id=other.unit_id,
            start_date=closed,
            end_date=closed + dt.timedelta(days=9),
            reason="Réfection des cadres",
        )
    )
    session.commit()
    over_blackout = _move(
        staff_client,
        other.reference,
        closed,
        closed + dt.timedelta(days=4),
        other.unit_id,
        headers=EN,
    )
    assert over_blackout.status_code == 409
    assert "Réfection des cadres" in over_blackout.get_data(as_text=True)
    session.expire_all()
    assert session.get(Booking, other.id).start_date == days_from_today(200)


def test_a_move_with_bad_dates_or_a_unit_of_another_offering_changes_nothing(staff_client, session):
    booking = hold(session).booking
    training = hold(
        session, offering="formation-bd-textile", start=training_day(60), end=training_day(60)
    ).booking
    day = training_day(120)
    cases = [
        {
            "start": day.isoformat(),
            "end": (day - dt.timedelta(days=1)).isoformat(),
            "unit": str(booking.unit_id),
        },
        {"start": "2027-02-30", "end": day.isoformat(), "unit": str(booking.unit_id)},
        {"start": "", "end": day.isoformat(), "unit": str(booking.unit_id)},
        {"start": day.isoformat(), "end": day.isoformat(), "unit": str(training.unit_id)},
        {"start": day.isoformat(), "end": day.isoformat(), "unit": "caisse"},
        {
            "start": day.isoformat(),
            "end": (day + dt.timedelta(days=400)).isoformat(),
            "unit": str(booking.unit_id),
        },
        # Buffers reaching before year 1 or after 9999; an id no column holds.
        {"start": "0001-01-01", "end": "0001-01-05", "unit": str(booking.unit_id)},
        {"start": "9999-12-27", "end": "9999-12-31", "unit": str(booking.unit_id)},
        {"start": day.isoformat(), "end": day.isoformat(), "unit": "99999999999999999999999"},
    ]
    for form in cases:
        response = staff_post(
            staff_client, f"/staff/bookings/{booking.reference}/move", form, headers=EN
        )
        assert response.status_code == 422, form
        assert 'class="field-error"' in response.get_data(as_text=True), form
    session.expire_all()
    assert session.get(Booking, booking.id).sequence == 0


def test_internal_notes_are_for_staff_only(staff_client, client, session):
    held = hold(session)
    reference = held.booking.reference
    added = staff_post(
        staff_client, f"/staff/bookings/{reference}/notes", {"text": "Rappeler pour le quai"}
    )
    assert added.status_code == 303
    assert "Rappeler pour le quai" in staff_client.get(f"/staff/bookings/{reference}").get_data(
        as_text=True
    )
    assert "Rappeler pour le quai" not in client.get(f"/bookings/{held.manage_token}").get_data(
        as_text=True
    )
    empty = staff_post(
        staff_client, f"/staff/bookings/{reference}/notes", {"text": "   "}, headers=EN
    )
    assert empty.status_code == 422 and "Write the note first." in empty.get_data(as_text=True)


def test_every_change_is_in_the_log_with_who_and_what(staff_client, session):
    held = hold(session)
    reference = held.booking.reference
    _decide(staff_client, reference, "confirmed")
    start = days_from_today(160)
    _move(staff_client, reference, start, start + dt.timedelta(days=4), held.booking.unit_id)
    page = staff_client.get(f"/staff/bookings/{reference}", headers=EN).get_data(as_text=True)
    history = page[page.index("History") :]
    assert history.count("marie@centre.example") == 2
    assert "status: requested" in history and "status: confirmed" in history
    assert f"start: {start.isoformat()}" in history
    log = staff_client.get("/staff/log", headers=EN).get_data(as_text=True)
    assert reference in log and "approved" in log and "dates or unit changed" in log


def test_dashboard_flags_old_requests_and_tight_transits(staff_client, session):
    start = days_from_today(60)
    first = hold(session, start=start, city="Québec").booking
    # The next request on the same crate starts the day after the first one's transit.
    follow_on = start + dt.timedelta(days=4 + 2 + 2 + 1)
    second = hold(session, start=follow_on, city="Sherbrooke").booking
    assert second.unit_id == first.unit_id
    old = hold(session, start=days_from_today(200)).booking
    old.created_at = now_utc() - dt.timedelta(days=10)
    session.commit()
    page = staff_client.get("/staff/", headers=EN).get_data(as_text=True)
    assert page.index(old.reference) < page.index(first.reference)  # oldest first
    assert "more than 7 days" in page
    assert "tight transit: comes straight from Québec" in page
    assert "tight transit: goes straight on to Sherbrooke" in page


def test_dashboard_shows_the_month_ahead_and_where_each_crate_is(staff_client, session, today):
    here = hold(session, start=days_from_today(25), city="Rimouski").booking
    _decide(staff_client, here.reference, "confirmed")
    page = staff_client.get("/staff/", headers=EN).get_data(as_text=True)
    upcoming = page[page.index("The next 30 days") : page.index("Where each set is")]
    assert "Install" in upcoming and "Return" in upcoming and here.reference in upcoming
    whereabouts = page[page.index("Where each set is") :]
    assert "At the centre" in whereabouts and "Rimouski" in whereabouts


def test_a_request_sent_on_a_montreal_evening_is_not_from_tomorrow(session):
    booking = hold(session).booking
    booking.created_at = dt.datetime(2027, 3, 1, 2, 0, tzinfo=dt.UTC)  # 21:00 on 28 February
    session.commit()
    (pending,) = dashboard.pending_requests(session, dt.date(2027, 2, 28))
    assert pending.age_days == 0


def test_a_moved_booking_is_reminded_again_before_its_new_start(staff_client, session):
    booking = hold(session, start=days_from_today(90)).booking
    booking.reminder_sent_at = now_utc()
    session.commit()
    start = days_from_today(130)
    _move(staff_client, booking.reference, start, start + dt.timedelta(days=4), booking.unit_id)
    session.expire_all()
    assert session.get(Booking, booking.id).reminder_sent_at is None


def test_a_note_or_a_message_with_a_control_character_is_refused(staff_client, session):
    booking = hold(session).booking
    reference = booking.reference
    note = staff_post(staff_client, f"/staff/bookings/{reference}/notes", {"text": "quai\x00 B"})
    refused = _decide(staff_client, reference, "confirmed", "À bientôt\x00", headers=EN)
    assert (note.status_code, refused.status_code) == (422, 422)
    assert "Remove the control characters." in refused.get_data(as_text=True)
    session.expire_all()
    assert session.get(Booking, booking.id).status == BookingStatus.REQUESTED
    assert "quai" not in staff_client.get(f"/staff/bookings/{reference}").get_data(as_text=True)
    multiline = _decide(staff_client, reference, "confirmed", "Bonjour,\r\n\tà bientôt")
    assert multiline.status_code == 303  # line breaks and tabs belong in a message


def test_an_address_with_a_control_character_names_no_booking(staff_client, session):
    reference = hold(session).booking.reference
    assert staff_client.get(f"/staff/bookings/{reference}%00").status_code == 404
    assert staff_client.get(f"/staff/bookings/{reference}").status_code == 200
