"""What staff do to a booking: approve, decline, cancel for the union, mark returned, move its
dates or unit, add an internal note. Each change is checked by the same rules as a union's
request (the transitions table, the offering's calendar lock, the database's overlap
guard) and recorded as an audit event in the same transaction; the caller commits."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from booking.availability import (
    BOOKING_HORIZON_YEARS,
    blocked_range,
    days_between,
    latest_start,
    readable_range,
)
from booking.catalog import offering_by_slug
from booking.errors import CalendarConflict, InvalidBooking
from booking.models import MAX_LENGTH_DAYS, Booking, BookingNote
from booking.overlaps import overlapping_blackout, overlapping_hold
from booking.service import booking_by_reference, change_status, lock_offering_calendar
from booking.status import BookingStatus
from core.clock import LOCAL_TIMEZONE
from core.database import begin_write
from core.header_text import breaks_a_paragraph
from core.staff import audit

NOTE_MAX_LENGTH = 5000
MESSAGE_MAX_LENGTH = 2000

ACTION_LABELS = {
    "requested": _l("request received"),
    "confirmed": _l("approved"),
    "declined": _l("declined"),
    "cancelled": _l("cancelled"),
    "completed": _l("marked returned"),
    "moved": _l("dates or unit changed"),
    "note": _l("internal note"),
}


def booking_facts(booking: Booking) -> dict[str, Any]:
    """What an audit event shows of a booking, before and after a change."""
    return {
        "status": str(booking.status),
        "start": booking.start_date.isoformat(),
        "end": booking.end_date.isoformat(),
        "unit": booking.unit.name if booking.unit else booking.unit_id,
    }


def _record(session: Session, booking: Booking, actor: str, action: str, before, now) -> None:  # type: ignore[no-untyped-def]
    changed_before, changed_after = audit.changed(before, booking_facts(booking))
    audit.record(
        session,
        actor=actor,
        subject="booking",
        key=booking.reference or str(booking.id),
        action=action,
        at=now,
        before=changed_before,
        after=changed_after,
    )


def _checked_message(message: str) -> str:
    message = message.strip()
    if len(message) > MESSAGE_MAX_LENGTH:
        raise InvalidBooking(
            {
                "message": _l(
                    "Keep the message under %(count)s characters.", count=MESSAGE_MAX_LENGTH
                )
            }
        )
    if breaks_a_paragraph(message):
        raise InvalidBooking({"message": _l("Remove the control characters.")})
    return message


def decide(
    session: Session,
    reference: str,
    wanted: BookingStatus,
    message: str,
    actor: str,
    now: dt.datetime,
) -> Booking:
    """Approve (confirmed), decline, cancel on the union's behalf or mark returned
    (completed), with an optional message to the union."""
    message = _checked_message(message)
    begin_write(session)
    booking = booking_by_reference(session, reference, lock=True)
    before = booking_facts(booking)
    change_status(booking, wanted, now)
    if wanted in (BookingStatus.CONFIRMED, BookingStatus.DECLINED):
        booking.decided_by, booking.decided_at = actor, now
    if message:
        booking.decision_message = message
    booking.sequence += 1
    _record(session, booking, actor, str(wanted), before, now)
    session.flush()
    return booking


def move(
    session: Session,
    reference: str,
    start: dt.date,
    end: dt.date,
    unit_id: int,
    actor: str,
    now: dt.datetime,
) -> Booking:
    """New dates or another unit of the same offering. Staff may go below the lead time
    (they arrange it with the union), never over another hold or a blackout."""
    begin_write(session)
    booking = booking_by_reference(session, reference, lock=True)
    # Under the offering's lock from here: its buffers and units are read as they are now.
    lock_offering_calendar(session, booking.offering_id)
    offering = offering_by_slug(session, booking.offering.slug)
    errors = {}
    today = now.astimezone(LOCAL_TIMEZONE).date()
    if not readable_range(today).start <= start <= latest_start(today):
        # As far ahead as a union's request, and back as far (far from years 1 and 9999,
        # where the buffers could not be counted): staff may fix a booking under way.
        errors["start"] = _l(
            "Choose a first day within %(years)s years of today.", years=BOOKING_HORIZON_YEARS
        )
    if end < start:
        errors["end"] = _l("The end date must be on or after the start date.")
    elif days_between(start, end) > MAX_LENGTH_DAYS:
        errors["end"] = _l("A booking lasts at most %(days)s days.", days=MAX_LENGTH_DAYS)
    # Among the offering's own units: an id of any size, or of another offering's unit,
    # finds none (and never reaches the database).
    unit = next((unit for unit in booking.offering.units if unit.id == unit_id), None)
    if unit is None or not unit.active:
        errors["unit"] = _l("Choose one of this offering's units.")
    if not booking.holds_dates:
        errors["start"] = _l("Only a request or a confirmed booking can be moved.")
    if errors:
        session.rollback()
        raise InvalidBooking(errors)
    blocked = blocked_range(offering, start, end)
    _refuse_overlap(session, booking, offering.id, unit_id, blocked.start, blocked.end)
    before = booking_facts(booking)
    if start != booking.start_date:
        booking.reminder_sent_at = None  # the reminder goes out again before the new start
    booking.start_date, booking.end_date = start, end
    booking.blocked_start, booking.blocked_end = blocked.start, blocked.end
    booking.unit = unit
    booking.sequence += 1
    try:
        session.flush()  # the database's overlap guard has the last word
    except IntegrityError:
        session.rollback()
        raise CalendarConflict(str(_l("a booking made at the same moment"))) from None
    _record(session, booking, actor, "moved", before, now)
    session.flush()
    return booking


def _refuse_overlap(
    session: Session,
    booking: Booking,
    offering_id: int,
    unit_id: int,
    first: dt.date,
    last: dt.date,
) -> None:
    other = overlapping_hold(session, [unit_id], first, last, ignoring=booking.id)
    if other is not None:
        session.rollback()
        raise CalendarConflict(f"{other.reference} ({other.organization})")
    blackout = overlapping_blackout(session, offering_id, unit_id, first, last)
    if blackout is not None:
        session.rollback()
        raise CalendarConflict(
            f"{blackout.reason or _l('blackout')} ({blackout.start_date} – {blackout.end_date})"
        )


def add_note(session: Session, reference: str, text: str, actor: str, now: dt.datetime) -> Booking:
    """An internal note: staff see it on the booking, the union never does."""
    text = text.strip()
    if not text:
        raise InvalidBooking({"note": _l("Write the note first.")})
    if len(text) > NOTE_MAX_LENGTH:
        raise InvalidBooking(
            {"note": _l("Keep the note under %(count)s characters.", count=NOTE_MAX_LENGTH)}
        )
    if breaks_a_paragraph(text):
        raise InvalidBooking({"note": _l("Remove the control characters.")})
    begin_write(session)
    booking = booking_by_reference(session, reference)
    session.add(BookingNote(booking_id=booking.id, author=actor, at=now, text=text))
    audit.record(
        session,
        actor=actor,
        subject="booking",
        key=booking.reference or str(booking.id),
        action="note",
        at=now,
        after={"note": text},
    )
    session.flush()
    return booking
