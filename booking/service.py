"""The booking rules: hold dates for a union, change a booking's status, find bookings.

Functions take a session and plain values and raise the errors of booking.errors.
A function that writes leaves its transaction open for the caller to add what belongs
with it (the outbox messages) and commit."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from booking import schema
from booking.availability import (
    BOOKING_HORIZON_YEARS,
    Window,
    blocked_range,
    days_between,
    earliest_start,
    free_unit_id,
    latest_start,
    next_windows,
)
from booking.catalog import CatalogOffering, offering_by_slug
from booking.errors import (
    BookingNotFound,
    DatesTaken,
    InvalidBooking,
    StatusChangeRefused,
    TryAgain,
)
from booking.holidays import closed_days, day_and_month, holiday_name
from booking.models import Booking, Offering, OfferingKind
from booking.schema import BookingRequest
from booking.status import BookingStatus, may_follow
from core.database import begin_write, is_contention
from core.i18n import lazy_day

OVERLAP_SQLSTATE = "23P01"  # PostgreSQL's exclusion_violation
OVERLAP_TRIGGER_MESSAGE = "booking_holds_overlap"  # SQLite's trigger (migration 0001)
TRANSIENT_RETRIES = 3
MANAGE_TOKEN_BYTES = 32


@dataclass(frozen=True)
class HeldBooking:
    booking: Booking
    manage_token: str  # shown once, in the union's link; only its hash is stored


END_BEFORE_START = _l("The last day must be on or after the first day.")


def date_errors(
    offering: CatalogOffering, start: dt.date, end: dt.date, today: dt.date
) -> dict[str, Any]:
    """What is wrong with the dates alone, before looking at what is free."""
    errors: dict[str, Any] = {}
    opens = earliest_start(offering, today)
    if start < today:
        errors["start"] = _l("This date is in the past.")
    elif start < opens:
        errors["start"] = _l(
            "Requests must be made %(days)s days ahead: the earliest start is %(date)s.",
            days=offering.lead_days,
            date=lazy_day(opens),
        )
    elif start > latest_start(today):
        errors["start"] = _l(
            "We take requests up to %(years)s years ahead.", years=BOOKING_HORIZON_YEARS
        )
    if end < start:
        errors["end"] = END_BEFORE_START
    else:
        days = days_between(start, end)
        if days < offering.min_days:
            errors["end"] = _l(
                "This offering is booked for at least %(days)s days.", days=offering.min_days
            )
        elif days > offering.max_days:
            errors["end"] = _l(
                "This offering is booked for at most %(days)s days.", days=offering.max_days
            )
        elif "start" not in errors and (closed := closed_days(offering, start, end)):
            errors["start"] = holiday_refusal(offering, min(closed))
    return errors


def holiday_refusal(offering: CatalogOffering, day: dt.date) -> LazyString:
    """Why a day is refused, written in the reader's language when shown: "Christmas Day
    (December 25) is a statutory holiday: the training is not given that day." """
    return LazyString(_holiday_message, offering.kind == OfferingKind.TRAINING, day)


def _holiday_message(training: bool, day: dt.date) -> str:
    holiday, date = holiday_name(day), day_and_month(day)
    if training:
        return _(
            "%(holiday)s (%(date)s) is a statutory holiday: the training is not given that day.",
            holiday=holiday,
            date=date,
        )
    return _(
        "%(holiday)s (%(date)s) is a statutory holiday: this offering is not available on "
        "holidays.",
        holiday=holiday,
        date=date,
    )


@dataclass(frozen=True)
class DateCheck:
    """What the form says live under the dates."""

    free: bool
    errors: list[str] = field(default_factory=list)
    windows: list[Window] = field(default_factory=list)


def check_dates(
    session: Session, offering: CatalogOffering, start: dt.date, end: dt.date, today: dt.date
) -> DateCheck:
    """Free, against a rule (with why), or taken (with the next windows of that length)."""
    errors = date_errors(offering, start, end, today)
    if errors:
        return DateCheck(free=False, errors=list(errors.values()))
    if free_unit_id(session, offering, start, end) is not None:
        return DateCheck(free=True)
    windows = next_windows(session, offering, days_between(start, end), start, today)
    return DateCheck(free=False, windows=windows)


def question_errors(offering: CatalogOffering, request: BookingRequest) -> dict[str, Any]:
    """The answers the offering requires of its own (booking.schema.Trait: walls and
    storage indoors, the site outdoors, a start time and participants for a training) that
    the request lacks."""
    return schema.missing_answers(type(request), offering, request.model_dump())


def hold_dates(
    session: Session, request: BookingRequest, today: dt.date, now: dt.datetime
) -> HeldBooking:
    """Hold the requested dates on the first free unit, or refuse with the next windows.

    The database has the last word: on PostgreSQL an exclusion constraint refuses a hold
    that overlaps another on the same unit, and this function then tries the next unit;
    on SQLite the write transaction holds the database lock from the first read."""
    offering = offering_by_slug(session, request.offering)
    request = schema.as_asked(offering, request)
    errors = date_errors(offering, request.start, request.end, today) | question_errors(
        offering, request
    )
    if errors:
        raise InvalidBooking(errors)
    for _attempt in range(len(offering.units) + TRANSIENT_RETRIES):
        try:
            begin_write(session)
            lock_offering_calendar(session, offering.id)
            # Read again under the lock: a unit retired or buffers changed a moment ago count.
            offering = offering_by_slug(session, request.offering)
            blocked = blocked_range(offering, request.start, request.end)
            unit_id = free_unit_id(session, offering, request.start, request.end)
            if unit_id is None:
                session.rollback()
                days = days_between(request.start, request.end)
                raise DatesTaken(next_windows(session, offering, days, request.start, today))
            token = new_manage_token()
            booking = _new_booking(
                offering, unit_id, request, blocked.start, blocked.end, token, now
            )
            session.add(booking)
            session.flush()
        except (IntegrityError, OperationalError) as error:
            session.rollback()
            if not _lost_a_race(error):
                raise
            continue
        booking.reference = f"AMB-{today.year}-{booking.id:04d}"
        session.flush()
        return HeldBooking(booking, token)
    raise TryAgain()


def lock_offering_calendar(session: Session, offering_id: int) -> None:
    """Every change to an offering's calendar (a hold, a staff move, a blackout) queues on
    the offering's row (PostgreSQL; SQLite's write lock already serializes them), so what
    one reads as free is still free when it writes: a blackout, which no constraint covers,
    can never land under a hold taken at the same moment, nor a hold on a blackout. Without
    it, two inserts checking the exclusion constraint against each other also deadlock."""
    session.execute(select(Offering.id).where(Offering.id == offering_id).with_for_update())


def _new_booking(
    offering: CatalogOffering,
    unit_id: int,
    request: BookingRequest,
    blocked_start: dt.date,
    blocked_end: dt.date,
    token: str,
    now: dt.datetime,
) -> Booking:
    return Booking(
        offering_id=offering.id,
        unit_id=unit_id,
        start_date=request.start,
        end_date=request.end,
        blocked_start=blocked_start,
        blocked_end=blocked_end,
        status=BookingStatus.REQUESTED,
        organization=request.organization,
        contact_name=request.contact_name,
        email=request.email,
        phone=request.phone,
        venue=request.venue,
        address=request.address,
        city=request.city,
        # A training's participants are its audience: both say how many people come.
        audience=request.audience if request.audience is not None else request.participants,
        language=request.language,
        notes=request.notes,
        start_time=request.start_time,
        wall_metres=request.wall_metres,
        venue_setting=offering.venue_setting if offering.is_exhibition else None,
        secure_storage=request.secure_storage,
        site_ground=request.site_ground,
        site_permits=request.site_permits,
        site_power=request.site_power,
        site_guard=request.site_guard,
        manage_token_hash=hash_token(token),
        created_at=now,
    )


def _lost_a_race(error: IntegrityError | OperationalError) -> bool:
    """An overlapping hold committed first, or other writers held the database at that
    moment: worth another try."""
    original = error.orig
    overlap = getattr(
        original, "sqlstate", None
    ) == OVERLAP_SQLSTATE or OVERLAP_TRIGGER_MESSAGE in str(original)
    return overlap or is_contention(error)


def new_manage_token() -> str:
    """A private link's secret: shown once, in the union's link; only its hash is kept."""
    return secrets.token_urlsafe(MANAGE_TOKEN_BYTES)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _one_booking(session: Session, query: Select[tuple[Booking]], lock: bool) -> Booking:
    """`lock`, in a write transaction: the row is locked and read as it is now (PostgreSQL
    waits for a change made at the same moment), so two status changes never both start
    from the same status."""
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    booking = session.scalar(query)
    if booking is None:
        raise BookingNotFound()
    return booking


def booking_by_token(session: Session, token: str, lock: bool = False) -> Booking:
    if not token or len(token) > 200:
        raise BookingNotFound()
    query = select(Booking).where(Booking.manage_token_hash == hash_token(token))
    return _one_booking(session, query, lock)


def booking_by_reference(session: Session, reference: str, lock: bool = False) -> Booking:
    return _one_booking(session, select(Booking).where(Booking.reference == reference), lock)


def change_status(booking: Booking, wanted: BookingStatus, now: dt.datetime) -> None:
    """The one place a booking's status changes; TRANSITIONS says which changes are allowed.
    A booking that stops holding its dates frees them at once."""
    if not may_follow(booking.status, wanted):
        raise StatusChangeRefused(booking.status, wanted)
    booking.status = wanted
    if wanted == BookingStatus.CANCELLED:
        booking.cancelled_at = now


def cancel_booking(session: Session, token: str, now: dt.datetime) -> Booking:
    """The union withdraws its request or booking; its dates are free again at once."""
    begin_write(session)
    booking = booking_by_token(session, token, lock=True)
    change_status(booking, BookingStatus.CANCELLED, now)
    session.flush()
    return booking


def renew_manage_token(session: Session, reference: str) -> HeldBooking:
    """A new private link for a booking (the union lost theirs); the old link stops working."""
    begin_write(session)
    booking = booking_by_reference(session, reference)
    token = new_manage_token()
    booking.manage_token_hash = hash_token(token)
    session.flush()
    return HeldBooking(booking, token)
