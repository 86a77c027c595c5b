"""`send-reminders`, as cron runs it: unions and staff reminded before a booking starts, each
booking once, and the staff's digest of requests still waiting for a decision."""

from __future__ import annotations

import datetime as dt
import re
from email import message_from_string, policy
from typing import Any

import pytest
from flask_babel import force_locale, gettext
from icalendar import Calendar
from sqlalchemy import select, update

from booking import reminders
from booking.decisions import decide
from booking.models import Booking, Offering
from booking.reminders import claim_reminders, due_reminders, send_reminders
from booking.status import BookingStatus
from core.clock import now_utc
from core.database import begin_write, session_for
from core.i18n import format_day
from core.models import OutboxMessage
from core.outbox import MailSettings
from tests.factories import days_from_today, hold

PUBLIC_URL = "https://ambulante.example.org"
STAFF = "bureau@centre.example"


@pytest.fixture
def app_config() -> dict[str, Any]:
    return {"PUBLIC_URL": PUBLIC_URL, "STAFF_EMAIL": STAFF}


def remind_days_before(session, days: int, slug: str = "expo-interieure") -> None:
    session.execute(update(Offering).where(Offering.slug == slug).values(reminder_days=days))
    session.commit()


def confirmed(session, **request: Any) -> Booking:
    """A union's request, approved by the staff."""
    booking = hold(session, **request).booking
    decide(
        session, booking.reference, BookingStatus.CONFIRMED, "", "marie@centre.example", now_utc()
    )
    session.commit()
    return booking


def messages_to(session, recipient: str, about: str = "") -> list[OutboxMessage]:
    rows = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
    return [row for row in rows if row.recipient == recipient and about in row.subject]


def body_of(row: OutboxMessage) -> str:
    return message_from_string(row.raw, policy=policy.default).get_body(("plain",)).get_content()


def calendar_of(row: OutboxMessage) -> Calendar:
    message = message_from_string(row.raw, policy=policy.default)
    (part,) = [p for p in message.iter_attachments() if p.get_content_type() == "text/calendar"]
    return Calendar.from_ical(part.get_content())


def send_reminders_on(app, session, day: dt.date) -> reminders.RemindersSent:
    """The service as a run of cron on another day would call it."""
    with app.app_context():
        return send_reminders(session, MailSettings.from_config(app.config), day, now_utc())


def test_union_and_staff_are_reminded_once_however_often_cron_runs(session, runner):
    remind_days_before(session, 70)
    booking = confirmed(session, start=days_from_today(60), email="local12@union.example")

    first = runner.invoke(args=["send-reminders"])
    second = runner.invoke(args=["send-reminders"])

    assert first.exit_code == 0, first.output
    assert first.output.strip() == "1 reminder, no digest (no request is waiting for a decision)"
    assert second.output.strip().startswith("0 reminders")
    assert len(messages_to(session, "local12@union.example")) == 1
    assert len(messages_to(session, STAFF, booking.reference)) == 1


def test_union_hears_nothing_yet_of_a_booking_further_off_than_its_offering_says(
    app, session, runner
):
    remind_days_before(session, 70)
    booking = confirmed(session, start=days_from_today(80), email="far@union.example")

    result = runner.invoke(args=["send-reminders"])

    assert result.output.startswith("0 reminders")
    assert messages_to(session, "far@union.example") == []
    # Ten days later it is within the 70 days, and the reminder goes.
    assert send_reminders_on(app, session, days_from_today(10)).reminders == 1
    assert len(messages_to(session, "far@union.example")) == 1
    assert booking.reference in messages_to(session, STAFF)[0].subject


def test_union_is_not_reminded_of_a_booking_that_has_begun(app, session):
    remind_days_before(session, 70)
    booking = confirmed(session, start=days_from_today(60), email="late@union.example")

    sent = send_reminders_on(app, session, booking.start_date + dt.timedelta(days=1))

    assert sent.reminders == 0
    assert messages_to(session, "late@union.example") == []


def test_union_reminder_is_in_the_unions_language_and_the_staffs_in_french(session, runner):
    remind_days_before(session, 70)
    english = confirmed(session, start=days_from_today(50), email="en@union.example", language="en")
    french = confirmed(session, start=days_from_today(60), email="fr@union.example")

    runner.invoke(args=["send-reminders"])

    (to_english,) = messages_to(session, "en@union.example")
    assert to_english.subject == (
        f"Reminder: your booking {english.reference} starts on "
        f"{format_day(english.start_date, 'long', language='en')}"
    )
    assert body_of(to_english).startswith("Hello Ana Pérez,")
    assert "Venue: Salle des métallos, 1601 av. De Lorimier, Montréal" in body_of(to_english)
    (to_french,) = messages_to(session, "fr@union.example")
    assert body_of(to_french).startswith("Bonjour Ana Pérez,")
    assert format_day(french.start_date, "long", language="fr") in to_french.subject
    (to_staff,) = messages_to(session, STAFF, english.reference)
    assert format_day(english.start_date, "long", language="fr") in to_staff.subject


def test_union_reminder_carries_its_dates_as_a_calendar_file(session, runner):
    remind_days_before(session, 70)
    booking = confirmed(session, start=days_from_today(60), email="cal@union.example")

    runner.invoke(args=["send-reminders"])

    (event,) = calendar_of(messages_to(session, "cal@union.example")[0]).walk("VEVENT")
    assert event.decoded("dtstart") == booking.start_date
    assert event.decoded("dtend") == booking.end_date + dt.timedelta(days=1)
    assert str(event["uid"]) == f"{booking.reference}@ambulante"
    assert str(event["status"]) == "CONFIRMED"
    assert "url" not in event  # the private link is not kept: no message can carry it


def test_staff_reminder_links_to_the_booking_on_the_desk(session, runner):
    remind_days_before(session, 70)
    booking = confirmed(session, start=days_from_today(60), email="desk@union.example")

    runner.invoke(args=["send-reminders"])

    (to_staff,) = messages_to(session, STAFF, booking.reference)
    body = body_of(to_staff)
    assert f"{PUBLIC_URL}/staff/bookings/{booking.reference}" in body
    assert "desk@union.example" in body and "Salle des métallos" in body


def test_a_request_still_undecided_gets_no_reminder_but_is_in_the_staff_digest(session, runner):
    remind_days_before(session, 70)
    waiting = hold(session, start=days_from_today(60), email="waiting@union.example").booking

    result = runner.invoke(args=["send-reminders"])

    assert result.output.strip() == "0 reminders, 1 digest of 1 request"
    assert messages_to(session, "waiting@union.example") == []
    (digest,) = messages_to(session, STAFF)
    assert f"{PUBLIC_URL}/staff/bookings/{waiting.reference}" in body_of(digest)
    assert waiting.reference not in digest.subject  # no reminder to the staff either


def test_staff_digest_lists_undecided_requests_oldest_first_with_their_age(
    app, session, runner, today
):
    newer = hold(session, start=days_from_today(60)).booking
    older = hold(session, start=days_from_today(120)).booking
    ten_days_ago = dt.datetime.combine(today - dt.timedelta(days=10), dt.time(12), dt.UTC)
    session.execute(update(Booking).where(Booking.id == older.id).values(created_at=ten_days_ago))
    session.commit()
    confirmed(session, start=days_from_today(100))  # decided: not in the digest

    result = runner.invoke(args=["send-reminders"])

    assert result.output.strip() == "0 reminders, 1 digest of 2 requests"
    (digest,) = messages_to(session, STAFF)
    assert digest.subject.endswith(": 2")
    body = body_of(digest)
    links = re.findall(rf"{re.escape(PUBLIC_URL)}/staff/bookings/(\S+)", body)
    assert links == [older.reference, newer.reference]
    older_entry = body.split(older.reference, 1)[1].split(newer.reference, 1)[0]
    with app.app_context(), force_locale("fr"):
        assert gettext("waiting %(days)s days", days=10) in older_entry


def test_staff_get_no_digest_when_nothing_waits(session, runner):
    confirmed(session, start=days_from_today(100))

    result = runner.invoke(args=["send-reminders"])

    assert "no digest" in result.output
    assert messages_to(session, STAFF) == []


def test_two_cron_runs_at_once_remind_a_booking_once(app, session, today):
    remind_days_before(session, 70)
    booking = confirmed(session, start=days_from_today(60))
    with session_for(app) as other:
        # Both runs see the booking still to remind before either has claimed it.
        seen_here, seen_there = due_reminders(session, today), due_reminders(other, today)
        assert seen_here == seen_there == [booking.id]
        begin_write(session)
        taken_here = claim_reminders(session, seen_here, today, now_utc())
        session.commit()
        begin_write(other)
        taken_there = claim_reminders(other, seen_there, today, now_utc())
        other.commit()

    assert (taken_here, taken_there) == ([booking.id], [])


def test_a_reminder_that_could_not_be_written_goes_at_the_next_run(session, runner, monkeypatch):
    remind_days_before(session, 70)
    confirmed(session, start=days_from_today(60), email="retry@union.example")
    written = reminders.reminder_messages

    def broken(*args: Any) -> Any:
        raise RuntimeError("the template is missing")

    monkeypatch.setattr(reminders, "reminder_messages", broken)
    failed = runner.invoke(args=["send-reminders"])
    monkeypatch.setattr(reminders, "reminder_messages", written)
    retried = runner.invoke(args=["send-reminders"])

    assert failed.output.startswith("0 reminders")
    assert retried.output.startswith("1 reminder,")
    assert len(messages_to(session, "retry@union.example")) == 1


def test_two_cron_runs_at_once_remind_a_booking_once_on_postgresql(postgres_url, fresh_app):
    app = fresh_app(DATABASE_URL=postgres_url, PUBLIC_URL=PUBLIC_URL, STAFF_EMAIL=STAFF)
    today = days_from_today(0)
    with session_for(app) as session, session_for(app) as other:
        remind_days_before(session, 70)
        booking = confirmed(session, start=days_from_today(60), email="pg@union.example")
        seen_here, seen_there = due_reminders(session, today), due_reminders(other, today)
        taken_here = claim_reminders(session, seen_here, today, now_utc())
        session.commit()
        taken_there = claim_reminders(other, seen_there, today, now_utc())
        other.commit()
        assert (taken_here, taken_there) == ([booking.id], [])
        result = app.test_cli_runner().invoke(args=["send-reminders"])
        assert result.output.startswith("0 reminders")
