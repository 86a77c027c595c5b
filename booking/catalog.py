"""The offerings and their units as read-only snapshots, read once per process and kept for
CATALOG_SECONDS: every page and rule reads the same snapshot instead of loading offerings
again, and an offering edited by staff (in any process) is seen everywhere within that time.

Snapshots hold what an offering says about itself, never anything about a union."""

from __future__ import annotations

import threading
import time
import weakref
from dataclasses import dataclass

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from booking.errors import UnknownOffering
from booking.models import Offering, OfferingKind, Unit, VenueSetting

CATALOG_SECONDS = 5.0


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
    units: tuple[CatalogUnit, ...]  # in the order holds try them

    @property
    def is_exhibition(self) -> bool:
        return self.kind == OfferingKind.EXHIBITION


@dataclass(frozen=True)
class _Snapshot:
    offerings: tuple[CatalogOffering, ...]  # the active ones, in the order pages list them
    by_slug: dict[str, CatalogOffering]
    read_at: float


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
)
ACTIVE_OFFERINGS = (
    select(*OFFERING_COLUMNS)
    .where(Offering.active.is_(True))
    .order_by(Offering.position, Offering.id)
)
UNITS = select(Unit.offering_id, Unit.id, Unit.name, Unit.position, Unit.active).order_by(
    Unit.position, Unit.id
)


def _read(session: Session) -> _Snapshot:
    connection = session.connection()
    units: dict[int, list[CatalogUnit]] = {}
    for offering_id, *unit in connection.execute(UNITS):
        units.setdefault(offering_id, []).append(CatalogUnit(*unit))
    offerings = tuple(
        CatalogOffering(*row, units=tuple(units.get(row.id, ())))
        for row in connection.execute(ACTIVE_OFFERINGS)
    )
    snapshot = _Snapshot(offerings, {o.slug: o for o in offerings}, time.monotonic())
    with _lock:
        _snapshots[session.get_bind()] = snapshot
    return snapshot


def _current(session: Session) -> _Snapshot:
    snapshot = _snapshots.get(session.get_bind())
    if snapshot is None or time.monotonic() - snapshot.read_at > CATALOG_SECONDS:
        snapshot = _read(session)
    return snapshot


def active_offerings(session: Session) -> list[CatalogOffering]:
    return list(_current(session).offerings)


def offering_by_slug(session: Session, slug: str) -> CatalogOffering:
    """An unknown slug is looked for afresh once (an offering added a moment ago)."""
    found = _current(session).by_slug.get(slug) or _read(session).by_slug.get(slug)
    if found is None:
        raise UnknownOffering(slug)
    return found
