"""Blackouts: days a unit, or every unit of an offering, cannot be booked (repairs, holidays).
A blackout never lands on a held or confirmed booking, and a hold never lands on a blackout:
both queue on the offering's calendar lock (booking.service.lock_offering_calendar)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from booking.availability import BOOKING_HORIZON_DAYS
from booking.errors import BookingError, CalendarConflict, InvalidBooking
from booking.models import Blackout, Offering, Unit
from booking.overlaps import overlapping_hold
from booking.service import lock_offering_calendar
from core.database import begin_write
from core.header_text import breaks_a_header_line
from core.staff import audit

REASON_MAX_LENGTH = 300
ACTION_LABELS = {
    "blackout added": _l("blackout added"),
    "blackout changed": _l("blackout changed"),
    "blackout removed": _l("blackout removed"),
}


class BlackoutNotFound(BookingError):
    """No blackout has that id."""


@dataclass(frozen=True)
class Target:
    """What a blackout closes: one unit, or a whole offering."""

    offering_id: int
    unit_id: int | None


def _checked(session: Session, target: Target, start: dt.date, end: dt.date, reason: str) -> str:
    errors: dict[str, Any] = {}
    offering = session.get(Offering, target.offering_id)
    unit = session.get(Unit, target.unit_id) if target.unit_id is not None else None
    if offering is None or (
        target.unit_id is not None and (unit is None or unit.offering_id != offering.id)
    ):
        errors["target"] = _l("Choose an offering or one of its units.")
    if end < start:
        errors["end"] = _l("The end date must be on or after the start date.")
    elif (end - start).days > BOOKING_HORIZON_DAYS:
        errors["end"] = _l("A blackout lasts at most %(days)s days.", days=BOOKING_HORIZON_DAYS)
    reason = reason.strip()
    if len(reason) > REASON_MAX_LENGTH:
        errors["reason"] = _l(
            "Keep the reason under %(count)s characters.", count=REASON_MAX_LENGTH
        )
    elif breaks_a_header_line(reason):
        errors["reason"] = _l("Remove line breaks and control characters.")
    if errors:
        raise InvalidBooking(errors)
    return reason


def _units_of(session: Session, target: Target) -> list[int]:
    if target.unit_id is not None:
        return [target.unit_id]
    return list(session.scalars(select(Unit.id).where(Unit.offering_id == target.offering_id)))


def _refuse_holds_under(session: Session, target: Target, start: dt.date, end: dt.date) -> None:
    """Checked after taking the offering's lock: no hold can arrive between this look and
    the blackout's insert."""
    held = overlapping_hold(session, _units_of(session, target), start, end)
    if held is not None:
        session.rollback()
        raise CalendarConflict(f"{held.reference} ({held.organization})")


def facts(blackout: Blackout) -> dict[str, Any]:
    return {
        "offering": blackout.offering_id,
        "unit": blackout.unit_id,
        "start": blackout.start_date.isoformat(),
        "end": blackout.end_date.isoformat(),
        "reason": blackout.reason,
    }


def add_blackout(
    session: Session,
    target: Target,
    start: dt.date,
    end: dt.date,
    reason: str,
    actor: str,
    now: dt.datetime,
) -> Blackout:
    reason = _checked(session, target, start, end, reason)
    begin_write(session)
    lock_offering_calendar(session, target.offering_id)
    _refuse_holds_under(session, target, start, end)
    blackout = Blackout(
        offering_id=target.offering_id if target.unit_id is None else None,
        unit_id=target.unit_id,
        start_date=start,
        end_date=end,
        reason=reason,
    )
    session.add(blackout)
    session.flush()
    _record(session, blackout, actor, "blackout added", {}, facts(blackout), now)
    return blackout


def change_blackout(
    session: Session,
    blackout_id: int,
    target: Target,
    start: dt.date,
    end: dt.date,
    reason: str,
    actor: str,
    now: dt.datetime,
) -> Blackout:
    reason = _checked(session, target, start, end, reason)
    begin_write(session)
    blackout = _existing(session, blackout_id)
    lock_offering_calendar(session, target.offering_id)
    _refuse_holds_under(session, target, start, end)
    before = facts(blackout)
    blackout.offering_id = target.offering_id if target.unit_id is None else None
    blackout.unit_id = target.unit_id
    blackout.start_date, blackout.end_date, blackout.reason = start, end, reason
    session.flush()
    changed_before, changed_after = audit.changed(before, facts(blackout))
    _record(session, blackout, actor, "blackout changed", changed_before, changed_after, now)
    return blackout


def remove_blackout(session: Session, blackout_id: int, actor: str, now: dt.datetime) -> None:
    begin_write(session)
    blackout = _existing(session, blackout_id)
    _record(session, blackout, actor, "blackout removed", facts(blackout), {}, now)
    session.delete(blackout)
    session.flush()


def _existing(session: Session, blackout_id: int) -> Blackout:
    blackout = session.get(Blackout, blackout_id)
    if blackout is None:
        session.rollback()
        raise BlackoutNotFound()
    return blackout


def _record(session, blackout, actor, action, before, after, now) -> None:  # type: ignore[no-untyped-def]
    audit.record(
        session,
        actor=actor,
        subject="blackout",
        key=str(blackout.id),
        action=action,
        at=now,
        before=before,
        after=after,
    )


def blackouts_from(session: Session, first: dt.date) -> list[Blackout]:
    """Blackouts ending on or after `first`, by start date."""
    return list(
        session.scalars(
            select(Blackout).where(Blackout.end_date >= first).order_by(Blackout.start_date)
        )
    )
