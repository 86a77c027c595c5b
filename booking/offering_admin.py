"""What an administrator changes about an offering: its titles and descriptions, its rules
(buffers, length, lead time, reminder days), whether it is offered, and its units (added,
renamed, retired or restored, never deleted: their bookings and history stay).

Each change queues on the offering's calendar lock like a hold does, is recorded as an
audit event in the same transaction, and leaves the commit to the caller. Holds made under
the old rules stand; booking.dashboard lists those that no longer fit."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from booking.availability import BOOKING_HORIZON_DAYS
from booking.dashboard import holds_breaking_rules
from booking.errors import BookingError
from booking.models import MAX_BUFFER_DAYS, MAX_LENGTH_DAYS, Offering, Unit
from booking.service import lock_offering_calendar
from core.database import begin_write
from core.header_text import breaks_a_header_line, breaks_a_paragraph
from core.staff import audit

SUBJECT = "offering"
TITLE_MAX_LENGTH = Offering.__table__.c.title_fr.type.length
UNIT_NAME_MAX_LENGTH = Unit.__table__.c.name.type.length
DESCRIPTION_MAX_LENGTH = 4000
REMINDER_MAX_DAYS = 365
# A lead time past the booking horizon would leave no day anyone could request.
LEAD_MAX_DAYS = BOOKING_HORIZON_DAYS

ACTION_LABELS = {
    "settings": _l("offering settings changed"),
    "unit added": _l("unit added"),
    "unit renamed": _l("unit renamed"),
    "unit retired": _l("unit retired"),
    "unit restored": _l("unit restored"),
}

# (lowest, highest) of each whole-number setting.
DAY_LIMITS = {
    "buffer_before_days": (0, MAX_BUFFER_DAYS),
    "buffer_after_days": (0, MAX_BUFFER_DAYS),
    "min_days": (1, MAX_LENGTH_DAYS),
    "max_days": (1, MAX_LENGTH_DAYS),
    "lead_days": (0, LEAD_MAX_DAYS),
    "reminder_days": (0, REMINDER_MAX_DAYS),
}


class OfferingNotFound(BookingError):
    """No offering (active or not) has that slug."""


class UnitNotFound(BookingError):
    """The offering has no unit with that id."""


class InvalidSettings(BookingError):
    """The change breaks a rule; `errors` maps each field to a message for the admin."""

    def __init__(self, errors: Mapping[str, Any]) -> None:
        super().__init__(dict(errors))
        self.errors = dict(errors)


@dataclass(frozen=True)
class OfferingSettings:
    """Everything the settings form changes about an offering."""

    title_fr: str
    title_en: str
    description_fr: str
    description_en: str
    buffer_before_days: int
    buffer_after_days: int
    min_days: int
    max_days: int
    lead_days: int
    reminder_days: int
    active: bool
    closed_on_holidays: bool = False  # Québec's statutory holidays (booking.holidays)

    @classmethod
    def of(cls, offering: Offering) -> OfferingSettings:
        return cls(**{name: getattr(offering, name) for name in cls.__dataclass_fields__})

    def cleaned(self) -> OfferingSettings:
        """Titles without the spaces around them (a title of spaces is no title)."""
        return OfferingSettings(
            **{
                **asdict(self),
                "title_fr": self.title_fr.strip(),
                "title_en": self.title_en.strip(),
                "description_fr": self.description_fr.strip(),
                "description_en": self.description_en.strip(),
            }
        )


def _day_message(name: str) -> Any:
    low, high = DAY_LIMITS[name]
    if name.startswith("buffer"):
        return _l("Transit and set-up take from %(low)s to %(high)s days.", low=low, high=high)
    if name == "min_days":
        return _l("The shortest booking is from %(low)s to %(high)s days.", low=low, high=high)
    if name == "max_days":
        return _l("The longest booking is from %(low)s to %(high)s days.", low=low, high=high)
    if name == "lead_days":
        return _l("The lead time is from %(low)s to %(high)s days.", low=low, high=high)
    return _l("Reminders go out from %(low)s to %(high)s days ahead.", low=low, high=high)


def _title_error(title: str) -> Any | None:
    if not title:
        return _l("Give the offering a title.")
    if len(title) > TITLE_MAX_LENGTH:
        return _l("Keep the title under %(count)s characters.", count=TITLE_MAX_LENGTH)
    if breaks_a_header_line(title):
        return _l("A title is one line, without line breaks or control characters.")
    return None


def _description_error(description: str) -> Any | None:
    if len(description) > DESCRIPTION_MAX_LENGTH:
        return _l("Keep the description under %(count)s characters.", count=DESCRIPTION_MAX_LENGTH)
    if breaks_a_paragraph(description):
        return _l("The description has a control character; type it again without it.")
    return None


def settings_errors(values: Mapping[str, Any]) -> dict[str, Any]:
    """What is wrong with each setting (None for a setting that could not be read, which the
    form reports itself), so that every field says what is wrong with it at once."""
    errors: dict[str, Any] = {}
    for name in ("title_fr", "title_en"):
        if values.get(name) is not None and (error := _title_error(values[name].strip())):
            errors[name] = error
    for name in ("description_fr", "description_en"):
        if values.get(name) is not None and (error := _description_error(values[name].strip())):
            errors[name] = error
    for name, (low, high) in DAY_LIMITS.items():
        value = values.get(name)
        if value is not None and not low <= value <= high:
            errors[name] = _day_message(name)
    shortest, longest = values.get("min_days"), values.get("max_days")
    if (
        shortest is not None
        and longest is not None
        and "min_days" not in errors
        and "max_days" not in errors
        and longest < shortest
    ):
        errors["max_days"] = _l(
            "The longest booking cannot be shorter than the shortest (%(days)s days).",
            days=shortest,
        )
    return errors


def offerings(session: Session) -> list[Offering]:
    """Every offering, offered or not, with its units, in the order the public pages use."""
    return list(
        session.scalars(
            select(Offering)
            .options(selectinload(Offering.units))
            .order_by(Offering.position, Offering.id)
        )
    )


def offering_by_slug(session: Session, slug: str) -> Offering:
    """The offering, offered or not (booking.catalog knows only the offered ones)."""
    offering = session.scalar(select(Offering).where(Offering.slug == slug))
    if offering is None:
        raise OfferingNotFound(slug)
    return offering


def _locked_offering(session: Session, slug: str) -> Offering:
    """Start the write and queue behind holds being made on this offering at this moment."""
    begin_write(session)
    offering_id = session.scalar(select(Offering.id).where(Offering.slug == slug))
    if offering_id is None:
        session.rollback()
        raise OfferingNotFound(slug)
    lock_offering_calendar(session, offering_id)
    session.expire_all()  # read again what others committed before the lock was ours
    return session.get_one(Offering, offering_id)


def _record(
    session: Session,
    offering: Offering,
    action: str,
    actor: str,
    now: dt.datetime,
    before: Mapping[str, Any],
    after: Mapping[str, Any],
) -> None:
    audit.record(
        session,
        actor=actor,
        subject=SUBJECT,
        key=offering.slug,
        action=action,
        at=now,
        before=before,
        after=after,
    )


def save_settings(
    session: Session, slug: str, wanted: OfferingSettings, actor: str, now: dt.datetime
) -> Offering:
    """Change an offering's titles, rules and whether it is offered. Holds that break the
    new rules stand (see booking.dashboard.holds_breaking_rules)."""
    wanted = wanted.cleaned()
    errors = settings_errors(asdict(wanted))
    if errors:
        raise InvalidSettings(errors)
    offering = _locked_offering(session, slug)
    if wanted.active and not any(unit.active for unit in offering.units):
        session.rollback()
        raise InvalidSettings(
            {"active": _l("An offering needs a unit in service to be offered: restore or add one.")}
        )
    before = asdict(OfferingSettings.of(offering))
    for name, value in asdict(wanted).items():
        setattr(offering, name, value)
    changed_before, changed_after = audit.changed(before, asdict(wanted))
    if changed_after:
        _record(session, offering, "settings", actor, now, changed_before, changed_after)
    session.flush()
    return offering


def _unit_of(session: Session, offering: Offering, unit_id: int) -> Unit:
    unit = next((unit for unit in offering.units if unit.id == unit_id), None)
    if unit is None:
        session.rollback()
        raise UnitNotFound(unit_id)
    return unit


def _name_error(name: str) -> Any | None:
    if not name:
        return _l("Give the unit a name.")
    if len(name) > UNIT_NAME_MAX_LENGTH:
        return _l("Keep the name under %(count)s characters.", count=UNIT_NAME_MAX_LENGTH)
    if breaks_a_header_line(name):
        return _l("A name is one line, without line breaks or control characters.")
    return None


def _checked_name(session: Session, offering: Offering, name: str, unit: Unit | None) -> str:
    """A name staff can tell apart from the offering's other units, retired ones included
    (their bookings still carry it)."""
    name = name.strip()
    error = _name_error(name)
    if error is None:
        taken = session.scalar(
            select(Unit.id).where(
                Unit.offering_id == offering.id,
                func.lower(Unit.name) == name.lower(),
                Unit.id != (unit.id if unit else -1),
            )
        )
        if taken is not None:
            error = _l("This offering already has a unit named %(name)s.", name=name)
    if error is not None:
        session.rollback()
        raise InvalidSettings({"name": error})
    return name


def add_unit(session: Session, slug: str, name: str, actor: str, now: dt.datetime) -> Unit:
    """A new unit, in service at once, tried last when a hold looks for a free one."""
    if error := _name_error(name.strip()):
        raise InvalidSettings({"name": error})
    offering = _locked_offering(session, slug)
    name = _checked_name(session, offering, name, None)
    position = max((unit.position for unit in offering.units), default=-1) + 1
    unit = Unit(offering_id=offering.id, name=name, position=position, active=True)
    session.add(unit)
    _record(session, offering, "unit added", actor, now, {}, {"unit": name})
    session.flush()
    return unit


def rename_unit(
    session: Session, slug: str, unit_id: int, name: str, actor: str, now: dt.datetime
) -> Unit:
    if error := _name_error(name.strip()):
        raise InvalidSettings({"name": error})
    offering = _locked_offering(session, slug)
    unit = _unit_of(session, offering, unit_id)
    name = _checked_name(session, offering, name, unit)
    before, after = audit.changed({"unit": unit.name}, {"unit": name})
    unit.name = name
    if after:
        _record(session, offering, "unit renamed", actor, now, before, after)
    session.flush()
    return unit


def _set_in_service(
    session: Session, slug: str, unit_id: int, active: bool, actor: str, now: dt.datetime
) -> Unit:
    offering = _locked_offering(session, slug)
    unit = _unit_of(session, offering, unit_id)
    others_in_service = [other for other in offering.units if other.active and other is not unit]
    if not active and offering.active and unit.active and not others_in_service:
        session.rollback()
        raise InvalidSettings(
            {
                "unit": _l(
                    "%(name)s is this offering's last unit in service: add another unit, or "
                    "stop offering it first.",
                    name=unit.name,
                )
            }
        )
    before, after = audit.changed({"active": unit.active}, {"active": active})
    unit.active = active
    if after:
        # The unit's name on both sides: the event says which unit, not only what changed.
        action = "unit restored" if active else "unit retired"
        before, after = {"unit": unit.name, **before}, {"unit": unit.name, **after}
        _record(session, offering, action, actor, now, before, after)
    session.flush()
    return unit


def retire_unit(session: Session, slug: str, unit_id: int, actor: str, now: dt.datetime) -> Unit:
    """The unit takes no new holds (booking.availability reads only units in service); its
    bookings, including those still ahead, and its history stay."""
    return _set_in_service(session, slug, unit_id, False, actor, now)


def restore_unit(session: Session, slug: str, unit_id: int, actor: str, now: dt.datetime) -> Unit:
    return _set_in_service(session, slug, unit_id, True, actor, now)


def holds_breaking_rules_of(session: Session, offering_id: int, today: dt.date) -> int:
    """How many of the offering's holds its current rules would refuse."""
    return sum(
        1
        for rule_break in holds_breaking_rules(session, today)
        if rule_break.booking.offering_id == offering_id
    )
