"""Sharing the calendar: the secret in the subscription addresses, the bookings a feed shows,
and the bookings of a date range as a spreadsheet (CSV) that opens with its accents intact."""

from __future__ import annotations

import csv
import datetime as dt
import hmac
import io
import secrets
from collections.abc import Iterable

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from booking.errors import InvalidBooking
from booking.models import Booking, CalendarFeedSecret, Offering
from booking.phones import show_phone
from booking.status import BookingStatus
from core.clock import LOCAL_TIMEZONE, as_utc
from core.database import begin_write
from core.staff import audit

SECRET_ID = 1  # the table holds one row
TOKEN_BYTES = 32

# Where calendar apps subscribe (booking.feeds serves these paths) and where a feed's event
# links to, both built on the configured public address, never on a request's Host.
ALL_FEED_PATH = "/calendar/{token}/all.ics"
OFFERING_FEED_PATH = "/calendar/{token}/{slug}.ics"
STAFF_BOOKING_PATH = "/staff/bookings/{reference}"  # booking.desk.booking_page

# What a calendar shows: held requests (tentative), confirmed and completed bookings.
# Declined and cancelled ones leave the feed, so subscribed calendars drop them.
FEED_STATUSES = (BookingStatus.REQUESTED, BookingStatus.CONFIRMED, BookingStatus.COMPLETED)
FEED_HISTORY = dt.timedelta(days=365)  # bookings that ended longer ago stay out

EXPORT_MAX_DAYS = 3 * 366  # a few years at most in one file
EXPORT_COLUMNS = (
    "reference",
    "status",
    "offering",
    "unit",
    "start",
    "end",
    "start_time",  # a training's; empty for an exhibition
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
)
# A spreadsheet runs a cell starting with one of these as a formula (OWASP, CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Excel reads a UTF-8 file as the local code page unless it starts with the byte order mark.
BYTE_ORDER_MARK = "\ufeff"


def feed_url(public_url: str, token: str, slug: str | None = None) -> str:
    """A subscription address: every booking, or one offering's."""
    if slug is None:
        return public_url + ALL_FEED_PATH.format(token=token)
    return public_url + OFFERING_FEED_PATH.format(token=token, slug=slug)


def staff_booking_url(public_url: str, reference: str) -> str:
    return public_url + STAFF_BOOKING_PATH.format(reference=reference)


def feed_token(session: Session) -> str:
    """The secret of the subscription addresses (made by the migration, renewed by
    `rotate_token`)."""
    return session.get(CalendarFeedSecret, SECRET_ID).token


def token_is_valid(session: Session, given: str) -> bool:
    """Only the current secret opens a feed; compared in constant time, so the answer's
    timing says nothing about how much of a guess was right."""
    return hmac.compare_digest(given.encode(), feed_token(session).encode())


def rotate_token(session: Session, actor: str, now: dt.datetime) -> str:
    """A new secret: the old addresses stop working at once. The audit event says who and
    when, never the secret itself. The caller commits."""
    begin_write(session)
    secret = session.get(CalendarFeedSecret, SECRET_ID, populate_existing=True)
    before = {"rotated_at": secret.rotated_at}
    token = secrets.token_urlsafe(TOKEN_BYTES)
    secret.token, secret.rotated_at = token, now
    audit.record(
        session,
        actor=actor,
        subject="calendar_feed",
        key=str(SECRET_ID),
        action="rotated",
        at=now,
        before=before,
        after={"rotated_at": now},
    )
    session.flush()
    return token


def offering_for_feed(session: Session, slug: str) -> Offering | None:
    return session.scalar(select(Offering).where(Offering.slug == slug))


def all_offerings(session: Session) -> list[Offering]:
    """Every offering, retired ones too: their past bookings still have a feed."""
    return list(session.scalars(select(Offering).order_by(Offering.position, Offering.id)))


def bookings_in_feed(
    session: Session, today: dt.date, offering_id: int | None = None
) -> list[Booking]:
    """What a subscribed calendar shows, by start date: from a year back on, bounded so that
    a feed stays small however long the centre uses the system."""
    query = (
        select(Booking)
        .where(
            Booking.status.in_(FEED_STATUSES),
            Booking.end_date >= today - FEED_HISTORY,
        )
        .options(selectinload(Booking.offering), selectinload(Booking.unit))
        .order_by(Booking.start_date, Booking.id)
    )
    if offering_id is not None:
        query = query.where(Booking.offering_id == offering_id)
    return list(session.scalars(query))


def export_range(start: str | None, end: str | None, today: dt.date) -> tuple[dt.date, dt.date]:
    """The dates asked for (YYYY-MM-DD); none at all means this calendar year."""
    start, end = (start or "").strip(), (end or "").strip()
    if not start and not end:
        return dt.date(today.year, 1, 1), dt.date(today.year, 12, 31)
    errors = {}
    first, last = _day(start), _day(end)
    if first is None:
        errors["start"] = _l("Enter a date as YYYY-MM-DD.")
    if last is None:
        errors["end"] = _l("Enter a date as YYYY-MM-DD.")
    if first and last and last < first:
        errors["end"] = _l("The end date must be on or after the start date.")
    elif first and last and (last - first).days + 1 > EXPORT_MAX_DAYS:
        errors["end"] = _l("Export at most %(days)s days at a time.", days=EXPORT_MAX_DAYS)
    if errors:
        raise InvalidBooking(errors)
    return first, last


def _day(text: str) -> dt.date | None:
    # Exactly YYYY-MM-DD, what a date field sends: fromisoformat also takes "20270105".
    if len(text) != 10:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None


def bookings_overlapping(session: Session, first: dt.date, last: dt.date) -> list[Booking]:
    """Every booking with a day in the range, whatever its status, by start date."""
    return list(
        session.scalars(
            select(Booking)
            .where(Booking.start_date <= last, Booking.end_date >= first)
            .options(selectinload(Booking.offering), selectinload(Booking.unit))
            .order_by(Booking.start_date, Booking.id)
        )
    )


def spreadsheet_safe(value: str) -> str:
    """Text someone typed, kept as text: a spreadsheet never runs it as a formula."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def bookings_csv(bookings: Iterable[Booking], language: str) -> bytes:
    """UTF-8 with a byte order mark and CRLF line ends (the csv module's), one row a booking;
    offering titles in the given language ("fr" or "en")."""
    out = io.StringIO()
    out.write(BYTE_ORDER_MARK)
    writer = csv.writer(out)
    writer.writerow(EXPORT_COLUMNS)
    for booking in bookings:
        writer.writerow(_cell(value) for value in _row(booking, language))
    return out.getvalue().encode("utf-8")


def _row(booking: Booking, language: str) -> tuple[object, ...]:
    return (
        booking.reference,
        str(booking.status),
        getattr(booking.offering, f"title_{language}"),
        booking.unit.name,
        booking.start_date.isoformat(),
        booking.end_date.isoformat(),
        booking.start_time.strftime("%H:%M") if booking.start_time else "",
        booking.organization,
        booking.contact_name,
        booking.email,
        show_phone(booking.phone, language),
        booking.venue,
        booking.address,
        booking.city,
        booking.audience,
        booking.language,
        _local_time(booking.created_at),
    )


def _local_time(moment: dt.datetime) -> str:
    return as_utc(moment).astimezone(LOCAL_TIMEZONE).strftime("%Y-%m-%d %H:%M")


def _cell(value: object) -> object:
    return spreadsheet_safe(value) if isinstance(value, str) else value
