"""What already holds some days of a unit: the hold or blackout a staff change would overlap,
found by name so the refusal can say which one."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy import or_, select, text
from sqlalchemy.orm import Session

from booking.models import HOLDING_SQL, Blackout, Booking


def overlapping_hold(
    session: Session,
    unit_ids: Iterable[int],
    first: dt.date,
    last: dt.date,
    ignoring: int | None = None,
) -> Booking | None:
    """A hold on one of the units whose blocked range (buffers included) meets [first, last]."""
    query = (
        select(Booking)
        .where(
            Booking.unit_id.in_(list(unit_ids)),
            text(f"bookings.{HOLDING_SQL}"),
            Booking.blocked_start <= last,
            Booking.blocked_end >= first,
        )
        .order_by(Booking.blocked_start)
        .limit(1)
    )
    if ignoring is not None:
        query = query.where(Booking.id != ignoring)
    return session.scalar(query)


def overlapping_blackout(
    session: Session,
    offering_id: int,
    unit_id: int,
    first: dt.date,
    last: dt.date,
    ignoring: int | None = None,
) -> Blackout | None:
    """A blackout of the unit, or of its whole offering, that meets [first, last]."""
    query = (
        select(Blackout)
        .where(
            or_(Blackout.unit_id == unit_id, Blackout.offering_id == offering_id),
            Blackout.start_date <= last,
            Blackout.end_date >= first,
        )
        .order_by(Blackout.start_date)
        .limit(1)
    )
    if ignoring is not None:
        query = query.where(Blackout.id != ignoring)
    return session.scalar(query)
