"""Which days an offering's units are free, held or booked, and where the next free windows are.

Every read here is bounded by dates: holds are found through the partial index on
(unit_id, blocked_start), so the cost depends on the months asked for, not on the years
of history in the table."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import Date, bindparam, or_, select, text, union_all
from sqlalchemy.orm import Session

from booking.catalog import CatalogOffering
from booking.models import HOLDING_SQL, MAX_BUFFER_DAYS, MAX_LENGTH_DAYS, Blackout, Booking
from booking.status import BookingStatus

# Written out literally (not as bound parameters) so both SQLite and PostgreSQL can
# prove that the partial index ix_bookings_holds covers the query.
HOLDING = text(f"bookings.{HOLDING_SQL}")
ONE_DAY = dt.timedelta(days=1)
# Requests are taken up to this far ahead; it also keeps date arithmetic far from year 9999.
BOOKING_HORIZON_YEARS = 3
BOOKING_HORIZON_DAYS = BOOKING_HORIZON_YEARS * 366
# Free windows are looked for this far from the first day asked about.
SEARCH_HORIZON_YEARS = 2
SEARCH_HORIZON_DAYS = SEARCH_HORIZON_YEARS * 365
SEARCH_STEPS_DAYS = (60, 240)


@dataclass(frozen=True)
class Window:
    start: dt.date
    end: dt.date

    @property
    def days(self) -> int:
        return days_between(self.start, self.end)


@dataclass(frozen=True)
class Block:
    """A blocked range of one unit: a hold (by status) or a blackout."""

    start: dt.date
    end: dt.date
    kind: str  # "requested", "confirmed" or "blackout"

    def overlaps(self, first: dt.date, last: dt.date) -> bool:
        return self.start <= last and self.end >= first


class DayReason(StrEnum):
    """Why a day can or cannot be the start of a request, as the calendar says it."""

    FREE = "free"
    PAST = "past"
    TOO_SOON = "too-soon"  # before the lead time
    TOO_FAR = "too-far"  # beyond the booking horizon
    GAP_TOO_SHORT = "gap-too-short"  # free, but the shortest booking does not fit around it
    HELD = "held"
    BOOKED = "booked"


@dataclass(frozen=True)
class Day:
    date: dt.date
    status: str  # "free", "held" or "booked"
    bookable: bool  # free, and far enough ahead for the offering's lead time
    reason: DayReason


def days_between(first: dt.date, last: dt.date) -> int:
    """How many days a booking from `first` to `last` lasts, both days included."""
    return (last - first).days + 1


def blocked_range(offering: CatalogOffering, start: dt.date, end: dt.date) -> Window:
    """The dates a booking keeps its unit away from others: its own, plus transit and set-up."""
    return Window(
        start - dt.timedelta(days=offering.buffer_before_days),
        end + dt.timedelta(days=offering.buffer_after_days),
    )


def earliest_start(offering: CatalogOffering, today: dt.date) -> dt.date:
    return today + dt.timedelta(days=offering.lead_days)


def latest_start(today: dt.date) -> dt.date:
    return today + dt.timedelta(days=BOOKING_HORIZON_DAYS)


def readable_range(today: dt.date) -> Window:
    """The days anyone may ask about: as far back as requests reach ahead, and up to the end
    of the longest booking starting on the last day requests are taken."""
    reach = dt.timedelta(days=MAX_LENGTH_DAYS + MAX_BUFFER_DAYS)
    return Window(today - dt.timedelta(days=BOOKING_HORIZON_DAYS), latest_start(today) + reach)


def active_unit_ids(offering: CatalogOffering) -> list[int]:
    return [unit.id for unit in offering.units if unit.active]


def blocks_by_unit(
    session: Session, offering: CatalogOffering, first: dt.date, last: dt.date
) -> dict[int, list[Block]]:
    """Every hold and blackout that touches [first, last], per active unit, sorted by start."""
    unit_ids = tuple(active_unit_ids(offering))
    blocks: dict[int, list[Block]] = {unit_id: [] for unit_id in unit_ids}
    if not unit_ids:
        return blocks
    # Statements built once per set of units and run on the connection: building and
    # compiling them again for every request cost more than the database's own work.
    connection = session.connection()
    dates = {"first": first, "last": last}
    for unit_id, start, end, status in connection.execute(_holds_touching(unit_ids), dates):
        if end >= first:
            blocks[unit_id].append(Block(start, end, status))
    blackouts = connection.execute(
        _blackouts_touching(unit_ids), {**dates, "offering": offering.id}
    )
    for unit_id, start, end in blackouts:
        for target in [unit_id] if unit_id is not None else unit_ids:
            blocks[target].append(Block(start, end, "blackout"))
    for unit_blocks in blocks.values():
        unit_blocks.sort(key=lambda block: block.start)
    return blocks


FIRST, LAST = bindparam("first", type_=Date), bindparam("last", type_=Date)


@functools.lru_cache(maxsize=256)
def _holds_touching(unit_ids: tuple[int, ...]):  # type: ignore[no-untyped-def]
    """Holds starting inside [first, last], plus each unit's last hold starting before it:
    holds of one unit never overlap, so only that one can reach into the range."""
    columns = (Booking.unit_id, Booking.blocked_start, Booking.blocked_end, Booking.status)
    starting_inside = select(*columns).where(
        Booking.unit_id.in_(unit_ids), HOLDING, Booking.blocked_start.between(FIRST, LAST)
    )
    last_before = [
        select(Booking.id)
        .where(Booking.unit_id == unit_id, HOLDING, Booking.blocked_start < FIRST)
        .order_by(Booking.blocked_start.desc())
        .limit(1)
        .scalar_subquery()
        for unit_id in unit_ids
    ]
    reaching_in = select(*columns).where(Booking.id.in_(last_before))
    return union_all(starting_inside, reaching_in)


@functools.lru_cache(maxsize=256)
def _blackouts_touching(unit_ids: tuple[int, ...]):  # type: ignore[no-untyped-def]
    return select(Blackout.unit_id, Blackout.start_date, Blackout.end_date).where(
        or_(Blackout.offering_id == bindparam("offering"), Blackout.unit_id.in_(unit_ids)),
        Blackout.end_date >= FIRST,
        Blackout.start_date <= LAST,
    )


def free_unit_id(
    session: Session, offering: CatalogOffering, start: dt.date, end: dt.date
) -> int | None:
    """The first unit (in the offering's order) whose blocked range would be free."""
    needed = blocked_range(offering, start, end)
    for unit_id, blocks in blocks_by_unit(session, offering, needed.start, needed.end).items():
        if not any(block.overlaps(needed.start, needed.end) for block in blocks):
            return unit_id
    return None


def day_states(
    session: Session, offering: CatalogOffering, first: dt.date, last: dt.date, today: dt.date
) -> list[Day]:
    """One entry per day: free when some unit could take a one-day booking on it; bookable
    when, besides, a booking of the offering's shortest length fits around it on one unit
    and the day lies between the lead time and the three-year limit."""
    before = dt.timedelta(days=offering.buffer_before_days)
    after = dt.timedelta(days=offering.buffer_after_days)
    shortest = dt.timedelta(days=offering.min_days - 1)
    blocks = blocks_by_unit(session, offering, first - shortest - before, last + shortest + after)
    opens, closes = earliest_start(offering, today), latest_start(today)
    days = []
    day = first
    while day <= last:
        status = _day_status(blocks.values(), day - before, day + after)
        reason = _reason(status, day, today, opens, closes)
        if reason == DayReason.FREE and not _shortest_stay_fits(
            blocks.values(), day, shortest, before, after, opens
        ):
            reason = DayReason.GAP_TOO_SHORT
        days.append(Day(day, status, reason == DayReason.FREE, reason))
        day += ONE_DAY
    return days


def _reason(
    status: str, day: dt.date, today: dt.date, opens: dt.date, closes: dt.date
) -> DayReason:
    if day < today:
        return DayReason.PAST
    if status != "free":
        return DayReason(status)
    if day < opens:
        return DayReason.TOO_SOON
    if day > closes:
        return DayReason.TOO_FAR
    return DayReason.FREE


def _shortest_stay_fits(
    units: Iterable[list[Block]],
    day: dt.date,
    shortest: dt.timedelta,
    before: dt.timedelta,
    after: dt.timedelta,
    opens: dt.date,
) -> bool:
    """Some booking of the shortest length that includes `day`, and that starts once
    requests open, is free on one unit."""
    for blocks in units:
        start = max(day - shortest, opens)
        while start <= day:
            needed_first, needed_last = start - before, start + shortest + after
            if not any(block.overlaps(needed_first, needed_last) for block in blocks):
                return True
            start += ONE_DAY
    return False


def _day_status(units: Iterable[list[Block]], first: dt.date, last: dt.date) -> str:
    unit_states = []
    for blocks in units:
        kinds = {block.kind for block in blocks if block.overlaps(first, last)}
        if not kinds:
            return "free"
        unit_states.append("held" if kinds == {BookingStatus.REQUESTED} else "booked")
    return "held" if "held" in unit_states else "booked"


def next_windows(
    session: Session,
    offering: CatalogOffering,
    days: int,
    not_before: dt.date,
    today: dt.date,
    count: int = 3,
) -> list[Window]:
    """The earliest free windows of `days` days, starting on or after `not_before`."""
    start = max(not_before, earliest_start(offering, today))
    horizon = min(start + dt.timedelta(days=SEARCH_HORIZON_DAYS), latest_start(today))
    before = dt.timedelta(days=offering.buffer_before_days)
    after = dt.timedelta(days=offering.buffer_after_days)
    length = dt.timedelta(days=days - 1)
    # Most offerings have free windows soon: read a few months of holds first, and reach
    # further only when they do not hold `count` windows (any window found is earlier
    # than every window past the reach, so those found are the earliest).
    for reach in (*SEARCH_STEPS_DAYS, SEARCH_HORIZON_DAYS):
        last_start = min(start + dt.timedelta(days=reach), horizon)
        found: set[Window] = set()
        blocks = blocks_by_unit(session, offering, start - before, last_start + length + after)
        for unit_blocks in blocks.values():
            found.update(
                _windows_between(unit_blocks, start, last_start, length, before, after, count)
            )
        if len(found) >= count or last_start == horizon:
            break
    return sorted(found, key=lambda window: window.start)[:count]


def _windows_between(
    blocks: list[Block],
    start: dt.date,
    horizon: dt.date,
    length: dt.timedelta,
    before: dt.timedelta,
    after: dt.timedelta,
    count: int,
) -> list[Window]:
    windows: list[Window] = []
    candidate = start
    for block in [*blocks, None]:
        while len(windows) < count and candidate <= horizon:
            if block is not None and candidate + length + after >= block.start:
                break
            windows.append(Window(candidate, candidate + length))
            candidate += length + ONE_DAY
        if block is None or len(windows) == count:
            break
        candidate = max(candidate, block.end + ONE_DAY + before)
    return windows
