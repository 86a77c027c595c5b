"""What each day of an offering is (free, held, booked, transit, closed); free windows, stretches.

Every read here is bounded by dates: holds are found through the partial index on
(unit_id, blocked_start), so the cost depends on the months asked for, not on the years
of history in the table."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import Date, bindparam, or_, select, text, union_all
from sqlalchemy.orm import Session

from booking.catalog import CatalogOffering
from booking.holidays import closed_days
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
    # A hold's own dates, inside its blocked range (the rest is transit and set-up); a
    # blackout's are its whole range.
    own_start: dt.date
    own_end: dt.date

    def overlaps(self, first: dt.date, last: dt.date) -> bool:
        return self.start <= last and self.end >= first

    def owns(self, day: dt.date) -> bool:
        return self.own_start <= day <= self.own_end


class DayKind(StrEnum):
    """What a day is on the calendar, whatever the date today."""

    FREE = "free"  # some unit could take a booking on it
    HELD = "held"  # a requested booking's own dates, on every unit that is not free
    BOOKED = "booked"  # a confirmed booking's own dates
    BUFFER = "buffer"  # transit and set-up around a hold or a blackout: no booking may use it
    CLOSED = "closed"  # a blackout, or a holiday the offering is closed on


# When no unit is free on a day, the calendar shows the first of these any unit has: a hold
# (which may free up) before a booking, and a booking before the days around it.
KINDS_SHOWN_FIRST = (DayKind.HELD, DayKind.BOOKED, DayKind.BUFFER, DayKind.CLOSED)


class DayReason(StrEnum):
    """Why a day can or cannot be part of a request, as the calendar says it."""

    FREE = "free"
    PAST = "past"
    TOO_SOON = "too-soon"  # before the lead time
    TOO_FAR = "too-far"  # beyond the booking horizon
    GAP_TOO_SHORT = "gap-too-short"  # free, but the shortest booking does not fit around it
    HELD = "held"
    BOOKED = "booked"
    BUFFER = "buffer"
    CLOSED = "closed"


@dataclass(frozen=True)
class Day:
    date: dt.date
    status: str  # "free", "held" or "booked", as the API says it
    bookable: bool  # part of some booking of the shortest length that may be requested
    reason: DayReason
    kind: DayKind = DayKind.FREE
    can_start: bool = False  # a booking of the shortest length may be requested from it
    closed_for: str = ""  # the holiday's name, on a holiday the offering is closed on


@dataclass(frozen=True)
class Stretch:
    """Days on which a booking of the offering's shortest length fits, on some unit."""

    start: dt.date
    end: dt.date | None  # None: free up to the end of the search, and maybe beyond


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
    holds = connection.execute(_holds_touching(unit_ids), dates)
    for unit_id, start, end, status, own_start, own_end in holds:
        if end >= first:
            blocks[unit_id].append(Block(start, end, status, own_start, own_end))
    blackouts = connection.execute(
        _blackouts_touching(unit_ids), {**dates, "offering": offering.id}
    )
    for unit_id, start, end in blackouts:
        for target in [unit_id] if unit_id is not None else unit_ids:
            blocks[target].append(Block(start, end, "blackout", start, end))
    for unit_blocks in blocks.values():
        unit_blocks.sort(key=lambda block: block.start)
    return blocks


FIRST, LAST = bindparam("first", type_=Date), bindparam("last", type_=Date)


@functools.lru_cache(maxsize=256)
def _holds_touching(unit_ids: tuple[int, ...]):  # type: ignore[no-untyped-def]
    """Holds starting inside [first, last], plus each unit's last hold starting before it:
    holds of one unit never overlap, so only that one can reach into the range."""
    columns = (
        Booking.unit_id,
        Booking.blocked_start,
        Booking.blocked_end,
        Booking.status,
        Booking.start_date,
        Booking.end_date,
    )
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
    """One entry per day: what the calendar shows on it (its kind: free when some unit could
    take a one-day booking on it), and whether it may be part of a request: bookable when a
    booking of the offering's shortest length that includes it fits on one unit, starts
    between the lead time and the three-year limit, and includes no closed day."""
    before, after = _buffers(offering)
    length = offering.min_days
    span = dt.timedelta(days=length - 1)
    blocks = blocks_by_unit(session, offering, first - span - before, last + span + after)
    closed = closed_days(offering, first - span, last + span)
    opens, closes = earliest_start(offering, today), latest_start(today)
    starts = [
        run
        for unit_blocks in blocks.values()
        for run in _start_runs(
            unit_blocks, max(first - span, opens), min(last, closes), length, before, after, closed
        )
    ]
    startable = _merged(starts)
    covered = _merged(Window(run.start, run.end + span) for run in starts)
    days = []
    for day in _dates(first, last):
        kind = _day_kind(blocks.values(), day, before, after, day in closed)
        reason = _reason(kind, day, today, opens, closes, _inside(covered, day))
        free = reason == DayReason.FREE
        status = _day_status(blocks.values(), day - before, day + after)
        days.append(
            Day(
                day,
                status,
                free,
                reason,
                kind,
                can_start=free and _inside(startable, day),
                closed_for=closed.get(day, ""),
            )
        )
    return days


def free_stretches(
    session: Session, offering: CatalogOffering, today: dt.date, count: int = 3
) -> list[Stretch]:
    """The first `count` stretches of free days from the day requests open: the longest runs
    of days each of which lies in some booking of the offering's shortest length that fits
    on one unit (several units' runs joined only where every day stays so). A stretch that
    reaches the end of the search is open-ended."""
    opens = earliest_start(offering, today)
    horizon = min(opens + dt.timedelta(days=SEARCH_HORIZON_DAYS), latest_start(today))
    before, after = _buffers(offering)
    length = offering.min_days
    span = dt.timedelta(days=length - 1)
    # As for next_windows: a few months first, further only when they hold too few stretches.
    for reach in (*SEARCH_STEPS_DAYS, SEARCH_HORIZON_DAYS):
        last_start = min(opens + dt.timedelta(days=reach), horizon)
        blocks = blocks_by_unit(session, offering, opens - before, last_start + span + after)
        closed = closed_days(offering, opens, last_start + span)
        runs = _merged(
            Window(run.start, run.end + span)
            for unit_blocks in blocks.values()
            for run in _start_runs(unit_blocks, opens, last_start, length, before, after, closed)
        )
        # A run that reaches the last day read may go on past it.
        ended = [run for run in runs if run.end < last_start + span]
        if len(ended) >= count or last_start == horizon:
            break
    return [Stretch(run.start, run.end if run in ended else None) for run in runs[:count]]


def _buffers(offering: CatalogOffering) -> tuple[dt.timedelta, dt.timedelta]:
    return (
        dt.timedelta(days=offering.buffer_before_days),
        dt.timedelta(days=offering.buffer_after_days),
    )


def _dates(first: dt.date, last: dt.date) -> Iterator[dt.date]:
    day = first
    while day <= last:
        yield day
        day += ONE_DAY


def _reason(
    kind: DayKind, day: dt.date, today: dt.date, opens: dt.date, closes: dt.date, fits: bool
) -> DayReason:
    if day < today:
        return DayReason.PAST
    if kind != DayKind.FREE:
        return DayReason(kind.value)
    if fits:
        return DayReason.FREE
    if day < opens:
        return DayReason.TOO_SOON
    if day > closes:
        return DayReason.TOO_FAR
    return DayReason.GAP_TOO_SHORT


def _day_kind(
    units: Iterable[list[Block]],
    day: dt.date,
    before: dt.timedelta,
    after: dt.timedelta,
    holiday: bool,
) -> DayKind:
    """Free when one unit is; otherwise what the units are, in the order KINDS_SHOWN_FIRST.
    A holiday is closed unless a booking already has it (one made before the rule)."""
    kinds = {_unit_kind(blocks, day, before, after) for blocks in units}
    if DayKind.FREE in kinds and not holiday:
        return DayKind.FREE
    if holiday:
        kinds = (kinds & {DayKind.HELD, DayKind.BOOKED}) or {DayKind.CLOSED}
    return next((kind for kind in KINDS_SHOWN_FIRST if kind in kinds), DayKind.CLOSED)


def _unit_kind(
    blocks: list[Block], day: dt.date, before: dt.timedelta, after: dt.timedelta
) -> DayKind:
    """A booking's or a blackout's own day; transit when a one-day booking's blocked range
    would meet a block (the unit travels, or would have no time to); otherwise free."""
    kind = DayKind.FREE
    for block in blocks:
        if block.owns(day):
            if block.kind == BookingStatus.REQUESTED:
                return DayKind.HELD
            return DayKind.BOOKED if block.kind == BookingStatus.CONFIRMED else DayKind.CLOSED
        if block.overlaps(day - before, day + after):
            kind = DayKind.BUFFER
    return kind


def _day_status(units: Iterable[list[Block]], first: dt.date, last: dt.date) -> str:
    """The API's word for a day: free when some unit could take a one-day booking on it."""
    unit_states = []
    for blocks in units:
        kinds = {block.kind for block in blocks if block.overlaps(first, last)}
        if not kinds:
            return "free"
        unit_states.append("held" if kinds == {BookingStatus.REQUESTED} else "booked")
    return "held" if "held" in unit_states else "booked"


def _start_runs(
    blocks: list[Block],
    first: dt.date,
    last: dt.date,
    days: int,
    before: dt.timedelta,
    after: dt.timedelta,
    closed: Iterable[dt.date],
) -> list[Window]:
    """The runs of days from `first` to `last` on which a booking of `days` days may start
    on one unit: its blocked range meets none of the unit's blocks (a booking's transit may
    not meet another's), and its own days include no closed day."""
    span = dt.timedelta(days=days - 1)
    runs = [Window(first, last)] if first <= last else []
    for block in blocks:
        runs = _without(runs, block.start - after - span, block.end + before)
    for day in closed:
        runs = _without(runs, day - span, day)
    return runs


def _without(runs: list[Window], first: dt.date, last: dt.date) -> list[Window]:
    kept = []
    for run in runs:
        if run.end < first or run.start > last:
            kept.append(run)
            continue
        if run.start < first:
            kept.append(Window(run.start, first - ONE_DAY))
        if run.end > last:
            kept.append(Window(last + ONE_DAY, run.end))
    return kept


def _merged(runs: Iterable[Window]) -> list[Window]:
    """Runs joined where they overlap or touch: every day of the result is in one of them."""
    merged: list[Window] = []
    for run in sorted(runs, key=lambda run: run.start):
        if merged and run.start <= merged[-1].end + ONE_DAY:
            if run.end > merged[-1].end:
                merged[-1] = Window(merged[-1].start, run.end)
        else:
            merged.append(run)
    return merged


def _inside(runs: list[Window], day: dt.date) -> bool:
    return any(run.start <= day <= run.end for run in runs)


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
    before, after = _buffers(offering)
    length = dt.timedelta(days=days - 1)
    # Most offerings have free windows soon: read a few months of holds first, and reach
    # further only when they do not hold `count` windows (any window found is earlier
    # than every window past the reach, so those found are the earliest).
    for reach in (*SEARCH_STEPS_DAYS, SEARCH_HORIZON_DAYS):
        last_start = min(start + dt.timedelta(days=reach), horizon)
        found: set[Window] = set()
        blocks = blocks_by_unit(session, offering, start - before, last_start + length + after)
        closed = closed_days(offering, start, last_start + length)
        for unit_blocks in blocks.values():
            runs = _start_runs(unit_blocks, start, last_start, days, before, after, closed)
            found.update(_windows_in(runs, days, count))
        if len(found) >= count or last_start == horizon:
            break
    return sorted(found, key=lambda window: window.start)[:count]


def _windows_in(runs: list[Window], days: int, count: int) -> list[Window]:
    """Back-to-back windows from the start of each run, at most `count`."""
    length = dt.timedelta(days=days)
    windows: list[Window] = []
    for run in runs:
        candidate = run.start
        while candidate <= run.end and len(windows) < count:
            windows.append(Window(candidate, candidate + length - ONE_DAY))
            candidate += length
    return windows
