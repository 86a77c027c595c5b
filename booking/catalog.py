"""The offerings and their units as read-only snapshots, read once per process and kept while
the calendar version (booking.models.CalendarVersion, raised by the database itself on any
change) stays the same: every page and rule reads the same snapshot instead of loading
offerings again, and an offering edited in any process is seen everywhere at once.

Snapshots hold what an offering says about itself, never anything about a union."""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from booking.errors import UnknownOffering
from booking.models import CalendarVersion, Offering, OfferingKind, Unit, VenueSetting

VERSION = select(CalendarVersion.version).where(CalendarVersion.id == 1)


@dataclass(frozen=True)
class CatalogUnit:
    id: int
    name: str
    position: int
    active: bool


@dataclass(frozen=True)
class CatalogOffering:
    id: int
    slug: str
    kind: OfferingKind
    title_fr: str
    title_en: str
    description_fr: str
    description_en: str
    venue_setting: VenueSetting | None
    buffer_before_days: int
    buffer_after_days: int
    min_days: int
    max_days: int
    lead_days: int
    closed_on_holidays: bool  # Québec's statutory holidays cannot be booked (booking.holidays)
    units: tuple[CatalogUnit, ...]  # in the order holds try them

    @property
    def is_exhibition(self) -> bool:
        return self.kind == OfferingKind.EXHIBITION


@dataclass(frozen=True)
class _Snapshot:
    offerings: tuple[CatalogOffering, ...]  # the active ones, in the order pages list them
    by_slug: dict[str, CatalogOffering]
    version: int


_snapshots: weakref.WeakKeyDictionary[Engine, _Snapshot] = weakref.WeakKeyDictionary()
_lock = threading.Lock()

OFFERING_COLUMNS = (
    Offering.id,
    Offering.slug,
    Offering.kind,
    Offering.title_fr,
    Offering.title_en,
    Offering.description_fr,
    Offering.description_en,
    Offering.venue_setting,
    Offering.buffer_before_days,
    Offering.buffer_after_days,
    Offering.min_days,
    Offering.max_days,
    Offering.lead_days,
    Offering.closed_on_holidays,
)
ACTIVE_OFFERINGS = (
    select(*OFFERING_COLUMNS)
    .where(Offering.active.is_(True))
    .order_by(Offering.position, Offering.id)
)
UNITS = select(Unit.offering_id, Unit.id, Unit.name, Unit.position, Unit.active).order_by(
    Unit.position, Unit.id
)


def calendar_version(session: Session) -> int:
    """Raised by the database on every change to offerings, units, bookings or blackouts."""
    return session.connection().execute(VERSION).scalar_one()


def _read(session: Session, version: int | None = None) -> _Snapshot:
    connection = session.connection()
    version = calendar_version(session) if version is None else version
    units: dict[int, list[CatalogUnit]] = {}
    for offering_id, *unit in connection.execute(UNITS):
        units.setdefault(offering_id, []).append(CatalogUnit(*unit))
    offerings = tuple(
        CatalogOffering(*row, units=tuple(units.get(row.id, ())))
        for row in connection.execute(ACTIVE_OFFERINGS)
    )
    snapshot = _Snapshot(offerings, {o.slug: o for o in offerings}, version)
    with _lock:
        _snapshots[session.get_bind()] = snapshot
    return snapshot


def _current(session: Session) -> _Snapshot:
    snapshot = _snapshots.get(session.get_bind())
    version = calendar_version(session)
    if snapshot is None or snapshot.version != version:
        snapshot = _read(session, version)
    return snapshot


def active_offerings(session: Session) -> list[CatalogOffering]:
    return list(_current(session).offerings)


def offering_by_slug(session: Session, slug: str) -> CatalogOffering:
    """The snapshot is current (an offering added a moment ago raised the version)."""
    found = _current(session).by_slug.get(slug)
    if found is None:
        raise UnknownOffering(slug)
    return found
