"""What the staff dashboard shows: requests waiting for a decision (with what makes one
urgent), the next installs, returns and trainings, where each unit is and goes next, and
holds that no longer fit their offering's rules."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select, text
from sqlalchemy.orm import Session, joinedload

from booking.availability import days_between
from booking.models import HOLDING_SQL, Booking, Offering, OfferingKind, Unit
from booking.status import BookingStatus
from core.clock import LOCAL_TIMEZONE, as_utc

WAITING_TOO_LONG_DAYS = 7  # a request older than this is flagged
UPCOMING_DAYS = 30
HOLDING = text(f"bookings.{HOLDING_SQL}")


@dataclass(frozen=True)
class PendingRequest:
    booking: Booking
    age_days: int
    waiting_too_long: bool
    tight_before: Booking | None  # the venue the unit comes from with no free day between
    tight_after: Booking | None  # the venue it goes to with no free day between


@dataclass(frozen=True)
class Movement:
    """An install, a return or a training on a given day."""

    day: dt.date
    kind: str  # "install", "return", "training"
    booking: Booking


@dataclass(frozen=True)
class Whereabouts:
    unit: Unit
    current: Booking | None  # the booking whose blocked range covers today
    at_venue: bool  # inside the booking's own dates (else in transit or set-up)
    next: Booking | None


@dataclass(frozen=True)
class RuleBreak:
    booking: Booking
    reasons: list[str]  # "length", "buffers", "unit retired"


def _holds():  # type: ignore[no-untyped-def]
    return (
        select(Booking)
        .where(HOLDING)
        .options(joinedload(Booking.offering), joinedload(Booking.unit))
        .order_by(Booking.blocked_start)
    )


def pending_requests(session: Session, today: dt.date) -> list[PendingRequest]:
    """Requests waiting for a decision, oldest first."""
    requests = session.scalars(
        select(Booking)
        .where(Booking.status == BookingStatus.REQUESTED)
        .options(joinedload(Booking.offering), joinedload(Booking.unit))
        .order_by(Booking.created_at, Booking.id)
    ).all()
    pending = []
    for booking in requests:
        age = (today - _local_date(booking.created_at)).days
        before, after = _neighbours(session, booking)
        pending.append(
            PendingRequest(
                booking,
                age,
                age > WAITING_TOO_LONG_DAYS,
                before if before and _touching(before, booking) else None,
                after if after and _touching(booking, after) else None,
            )
        )
    return pending


def _local_date(moment: dt.datetime) -> dt.date:
    """The day in Montréal (SQLite gives back naive UTC datetimes)."""
    return as_utc(moment).astimezone(LOCAL_TIMEZONE).date()


def _neighbours(session: Session, booking: Booking) -> tuple[Booking | None, Booking | None]:
    """The unit's holds just before and just after this one."""
    same_unit = _holds().where(Booking.unit_id == booking.unit_id, Booking.id != booking.id)
    before = session.scalars(
        same_unit.where(Booking.blocked_end < booking.blocked_start)
        .order_by(None)
        .order_by(Booking.blocked_end.desc())
        .limit(1)
    ).first()
    after = session.scalars(
        same_unit.where(Booking.blocked_start > booking.blocked_end).limit(1)
    ).first()
    return before, after


def _touching(first: Booking, second: Booking) -> bool:
    """No free day between two venues: the crates go straight from one to the other."""
    return (second.blocked_start - first.blocked_end).days <= 1


def upcoming(session: Session, today: dt.date, days: int = UPCOMING_DAYS) -> list[Movement]:
    """Installs, returns and trainings of held bookings in the next `days` days, by date."""
    last = today + dt.timedelta(days=days)
    bookings = session.scalars(
        _holds().where(Booking.end_date >= today, Booking.start_date <= last)
    ).all()
    movements = []
    for booking in bookings:
        if booking.offering.kind == OfferingKind.TRAINING:
            if booking.start_date >= today:
                movements.append(Movement(booking.start_date, "training", booking))
            continue
        if booking.start_date >= today:
            movements.append(Movement(booking.start_date, "install", booking))
        if booking.end_date <= last:
            movements.append(Movement(booking.end_date, "return", booking))
    return sorted(movements, key=lambda movement: (movement.day, movement.booking.id))


def whereabouts(session: Session, today: dt.date) -> list[Whereabouts]:
    """Each active exhibition unit: where it is today and where it goes next."""
    units = session.scalars(
        select(Unit)
        .join(Offering)
        .where(Unit.active, Offering.kind == OfferingKind.EXHIBITION)
        .options(joinedload(Unit.offering))
        .order_by(Offering.position, Unit.position, Unit.id)
    ).all()
    places = []
    for unit in units:
        holds = session.scalars(
            _holds().where(Booking.unit_id == unit.id, Booking.blocked_end >= today)
        ).all()
        current = next((hold for hold in holds if hold.blocked_start <= today), None)
        later = [hold for hold in holds if hold.blocked_start > today]
        at_venue = current is not None and current.start_date <= today <= current.end_date
        places.append(Whereabouts(unit, current, at_venue, later[0] if later else None))
    return places


def holds_breaking_rules(session: Session, today: dt.date) -> list[RuleBreak]:
    """Holds made under earlier rules that the offering's current settings would refuse:
    they stand (history is not rewritten), and staff see them here."""
    holds = session.scalars(_holds().where(Booking.end_date >= today)).all()
    breaks = []
    for booking in holds:
        offering = booking.offering
        reasons = []
        if (
            not offering.min_days
            <= days_between(booking.start_date, booking.end_date)
            <= (offering.max_days)
        ):
            reasons.append("length")
        if (booking.start_date - booking.blocked_start).days < offering.buffer_before_days or (
            booking.blocked_end - booking.end_date
        ).days < offering.buffer_after_days:
            reasons.append("buffers")
        if not booking.unit.active:
            reasons.append("unit retired")
        if reasons:
            breaks.append(RuleBreak(booking, reasons))
    return breaks
