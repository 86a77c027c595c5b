"""What the scan counts say: scans per venue, screen, portrait and target over Montréal days,
per day, the screens' online hours, one row per day and code for the CSV, and a venue's own
totals for its union."""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeVar

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session, aliased, selectinload

from booking.models import Booking
from booking.status import BookingStatus
from core.clock import LOCAL_TIMEZONE
from kiosk.models import PORTRAIT, Heartbeat, QrLink, ScanCount, ScanTarget, Screen
from kiosk.screens import all_screens
from kiosk.targets import all_targets
from media.models import Portrait

DEFAULT_DAYS = 30  # what the page shows first: the last thirty days, today included
MAX_DAYS = 731  # two years at most in one report: a bounded page, a bounded export
EARLIEST_DAY = dt.date(2000, 1, 1)  # no scan is older; keeps date arithmetic in range
LATEST_AHEAD = dt.timedelta(days=366)  # a day further ahead than this is a typing slip
DATE_PATTERN = re.compile(r"\d{4}-\d{2}-\d{2}")
CSV_COLUMNS = ("date", "code", "target", "screen", "booking", "portrait", "scans")
# A spreadsheet reads a cell starting with one of these as a formula (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Whose exhibition a union can see the scans of: one that really went to its venue.
SHOWN_TO_UNION = (BookingStatus.CONFIRMED, BookingStatus.COMPLETED)


class RangeProblem(StrEnum):
    UNREADABLE = "unreadable"
    OUTSIDE = "outside"
    REVERSED = "reversed"
    TOO_LONG = "too long"


class InvalidRange(ValueError):
    """The days asked for cannot make a report: which field, and what is wrong with it."""

    def __init__(self, field: str, problem: RangeProblem, earliest: dt.date, latest: dt.date):
        super().__init__(field, problem)
        self.field, self.problem = field, problem
        self.earliest, self.latest = earliest, latest


@dataclass(frozen=True)
class DayRange:
    """Montréal days, both ends included."""

    first: dt.date
    last: dt.date

    @property
    def days(self) -> list[dt.date]:
        return [self.first + dt.timedelta(days=n) for n in range((self.last - self.first).days + 1)]

    def moments(self) -> tuple[dt.datetime, dt.datetime]:
        """The UTC moments it spans: from the first day's midnight in Montréal to the
        midnight after the last (a day of 23 or 25 hours when the clocks change)."""
        start = dt.datetime.combine(self.first, dt.time(), LOCAL_TIMEZONE)
        end = dt.datetime.combine(self.last + dt.timedelta(days=1), dt.time(), LOCAL_TIMEZONE)
        return start.astimezone(dt.UTC), end.astimezone(dt.UTC)


def parse_range(first: str | None, last: str | None, today: dt.date) -> DayRange:
    """The days a staff member asked for (YYYY-MM-DD; an empty end: today, an empty start:
    thirty days before the end), or InvalidRange."""
    earliest, latest = EARLIEST_DAY, today + LATEST_AHEAD
    last_day = _day("to", last, earliest, latest) or today
    first_day = _day("from", first, earliest, latest) or max(
        last_day - dt.timedelta(days=DEFAULT_DAYS - 1), earliest
    )
    if first_day > last_day:
        raise InvalidRange("to", RangeProblem.REVERSED, earliest, latest)
    if (last_day - first_day).days + 1 > MAX_DAYS:
        raise InvalidRange("to", RangeProblem.TOO_LONG, earliest, latest)
    return DayRange(first_day, last_day)


def _day(field: str, value: str | None, earliest: dt.date, latest: dt.date) -> dt.date | None:
    value = (value or "").strip()
    if not value:
        return None
    try:
        if not DATE_PATTERN.fullmatch(value):
            raise ValueError(value)
        day = dt.date.fromisoformat(value)
    except ValueError:
        raise InvalidRange(field, RangeProblem.UNREADABLE, earliest, latest) from None
    if not earliest <= day <= latest:
        raise InvalidRange(field, RangeProblem.OUTSIDE, earliest, latest)
    return day


# The staff's report.


class Source(StrEnum):
    """Where a link's code is shown."""

    SCREEN = "screen"
    PRINTED = "printed"  # a venue's printed cards and poster
    REMOVED = "removed"  # a screen deleted since: its counts stay


@dataclass(frozen=True)
class VenueTally:
    booking: Booking | None  # None: scans at no venue (a screen serving none)
    scans: int

    @property
    def per_hundred(self) -> float | None:
        """Scans per hundred visitors, when the union said how many people it expected."""
        if self.booking is None or not self.booking.audience or self.booking.audience <= 0:
            return None
        return 100 * self.scans / self.booking.audience


@dataclass(frozen=True)
class ScreenTally:
    source: Source
    screen: Screen | None
    scans: int
    online_minutes: int

    @property
    def online_hours(self) -> float:
        return self.online_minutes / 60


@dataclass(frozen=True)
class PortraitTally:
    portrait: Portrait | None  # None: a portrait removed from the library since
    scans: int


@dataclass(frozen=True)
class TargetTally:
    key: str  # a target's key, or PORTRAIT for the portraits' stories
    target: ScanTarget | None
    scans: int


@dataclass(frozen=True)
class ScanReport:
    period: DayRange
    total: int
    venues: list[VenueTally]
    screens: list[ScreenTally]
    portraits: list[PortraitTally]
    targets: list[TargetTally]
    daily: list[tuple[dt.date, int]]  # every day of the period, zeros included


def on_its_days(venue: Any, day: Any) -> Any:
    """Whether a screen's scan on `day` was at the venue it serves: on the venue's days
    alone (a screen serves one venue after another, and plays at the centre in between).
    A venue's printed codes are its own whenever scanned."""
    return day.between(venue.blocked_start, venue.blocked_end)


def scan_report(session: Session, period: DayRange) -> ScanReport:
    screen_venue = aliased(Booking)
    sums = (
        select(
            ScanCount.link_id,
            func.sum(ScanCount.scans).label("scans"),
            func.sum(
                case((on_its_days(screen_venue, ScanCount.day), ScanCount.scans), else_=0)
            ).label("at_venue"),
        )
        .join(QrLink, QrLink.id == ScanCount.link_id)
        .outerjoin(Screen, Screen.id == QrLink.screen_id)
        .outerjoin(screen_venue, screen_venue.id == Screen.booking_id)
        .where(ScanCount.day.between(period.first, period.last))
        .group_by(ScanCount.link_id)
        .subquery()
    )
    rows = session.execute(
        select(QrLink, sums.c.scans, sums.c.at_venue)
        .join(sums, sums.c.link_id == QrLink.id)
        .options(
            selectinload(QrLink.screen).selectinload(Screen.booking),
            selectinload(QrLink.booking),
            selectinload(QrLink.portrait),
        )
    ).all()
    by_venue: dict[int | None, int] = defaultdict(int)
    venues: dict[int, Booking] = {}
    by_screen: dict[tuple[Source, int | None], int] = defaultdict(int)
    by_portrait: dict[int | None, int] = defaultdict(int)
    portraits: dict[int, Portrait] = {}
    by_target: dict[str, int] = defaultdict(int)
    for link, scans, at_venue in rows:
        scans = int(scans)
        for venue, share in _venue_shares(link, scans, int(at_venue)):
            if venue is not None:
                venues[venue.id] = venue
            by_venue[venue.id if venue is not None else None] += share
        by_screen[_source_of(link)] += scans
        if link.target == PORTRAIT:
            if link.portrait is not None:
                portraits[link.portrait.id] = link.portrait
            by_portrait[link.portrait_id] += scans
        by_target[link.target] += scans
    minutes = _online_minutes(session, period)
    return ScanReport(
        period=period,
        total=sum(by_venue.values()),
        venues=_by_scans(
            VenueTally(venues[key] if key is not None else None, scans)
            for key, scans in by_venue.items()
        ),
        screens=_screen_tallies(session, by_screen, minutes),
        portraits=_by_scans(
            PortraitTally(portraits.get(key) if key is not None else None, scans)
            for key, scans in by_portrait.items()
        ),
        targets=_target_tallies(session, by_target),
        daily=_daily(session, period),
    )


Tally = TypeVar("Tally", VenueTally, ScreenTally, PortraitTally, TargetTally)


def _venue_shares(link: QrLink, scans: int, at_venue: int) -> list[tuple[Booking | None, int]]:
    """A link's scans by venue: a venue's printed codes', all its own; a screen's, its
    venue's on the venue's days (`at_venue`), no venue's on the others."""
    if link.booking is not None:
        return [(link.booking, scans)]
    venue = link.screen.booking if link.screen is not None else None
    if venue is None:
        return [(None, scans)]
    return [
        (owner, share) for owner, share in ((venue, at_venue), (None, scans - at_venue)) if share
    ]


def _source_of(link: QrLink) -> tuple[Source, int | None]:
    if link.screen_id is not None:
        return Source.SCREEN, link.screen_id
    if link.booking_id is not None:
        return Source.PRINTED, None
    return Source.REMOVED, None


def _by_scans(tallies: Iterable[Tally]) -> list[Tally]:
    """Most scanned first; ties keep the order they came in."""
    return sorted(tallies, key=lambda tally: -tally.scans)


def _online_minutes(session: Session, period: DayRange) -> dict[int, int]:
    start, end = period.moments()
    return {
        screen_id: int(count)
        for screen_id, count in session.execute(
            select(Heartbeat.screen_id, func.count())
            .where(Heartbeat.minute >= start, Heartbeat.minute < end)
            .group_by(Heartbeat.screen_id)
        )
    }


def _screen_tallies(
    session: Session, by_screen: dict[tuple[Source, int | None], int], minutes: dict[int, int]
) -> list[ScreenTally]:
    """Every screen there is (one that was on and moved nobody to scan says something too),
    then the printed codes and the deleted screens' codes when they were scanned."""
    tallies = [
        ScreenTally(
            Source.SCREEN,
            screen,
            by_screen.get((Source.SCREEN, screen.id), 0),
            minutes.get(screen.id, 0),
        )
        for screen in all_screens(session)
    ]
    for source in (Source.PRINTED, Source.REMOVED):
        if by_screen.get((source, None)):
            tallies.append(ScreenTally(source, None, by_screen[(source, None)], 0))
    return _by_scans(tallies)


def _target_tallies(session: Session, by_target: dict[str, int]) -> list[TargetTally]:
    """Every target there is, the portraits' stories, and any key a target no longer has."""
    targets = all_targets(session)
    known = {target.key for target in targets}
    tallies = [TargetTally(target.key, target, by_target.get(target.key, 0)) for target in targets]
    tallies.append(TargetTally(PORTRAIT, None, by_target.get(PORTRAIT, 0)))
    tallies += [
        TargetTally(key, None, scans)
        for key, scans in sorted(by_target.items())
        if key not in known and key != PORTRAIT
    ]
    return _by_scans(tallies)


def _daily(session: Session, period: DayRange) -> list[tuple[dt.date, int]]:
    found = {
        day: int(scans)
        for day, scans in session.execute(
            select(ScanCount.day, func.sum(ScanCount.scans))
            .where(ScanCount.day.between(period.first, period.last))
            .group_by(ScanCount.day)
        )
    }
    return [(day, found.get(day, 0)) for day in period.days]


# The export.


def scan_rows(session: Session, period: DayRange) -> Iterator[tuple[str, ...]]:
    """One row per day and code scanned that day, in CSV_COLUMNS' order, as text a
    spreadsheet shows as it is (never as a formula)."""
    venue = aliased(Booking)
    shown_portrait = aliased(Portrait)
    statement = (
        select(
            ScanCount.day,
            QrLink.code,
            QrLink.target,
            Screen.slug.label("screen"),
            venue.reference,
            shown_portrait.slug.label("portrait"),
            ScanCount.scans,
        )
        .join(QrLink, ScanCount.link_id == QrLink.id)
        .outerjoin(Screen, QrLink.screen_id == Screen.id)
        .outerjoin(
            venue,
            (venue.id == func.coalesce(QrLink.booking_id, Screen.booking_id))
            & (QrLink.booking_id.is_not(None) | on_its_days(venue, ScanCount.day)),
        )
        .outerjoin(shown_portrait, QrLink.portrait_id == shown_portrait.id)
        .where(ScanCount.day.between(period.first, period.last))
        .order_by(ScanCount.day, QrLink.code)
    )
    for day, code, target, screen, reference, portrait, scans in session.execute(statement):
        yield tuple(
            safe_cell(value)
            for value in (day.isoformat(), code, target, screen, reference, portrait)
        ) + (str(int(scans)),)


def safe_cell(value: str | None) -> str:
    """A cell a spreadsheet never runs: text starting like a formula gets an apostrophe."""
    text = value or ""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


# A union's own page.


def has_left(booking: Booking, today: dt.date) -> bool:
    """The exhibition went to the venue and came back (or its last day is past): its union
    may see what its visitors scanned. Never a training: it has no screen or codes."""
    if not booking.offering.is_exhibition or booking.status not in SHOWN_TO_UNION:
        return False
    return booking.status == BookingStatus.COMPLETED or booking.end_date < today


def venue_totals(session: Session, booking: Booking) -> dict[str, int]:
    """Scans at a venue, by target key (PORTRAIT: the portraits' stories): its printed codes,
    whenever scanned, and its screens' codes on the days the exhibition was there (a screen
    serves one venue after another; only these days were this venue's)."""
    screens = select(Screen.id).where(Screen.booking_id == booking.id)
    printed = QrLink.booking_id == booking.id
    on_screen = QrLink.screen_id.in_(screens) & on_its_days(booking, ScanCount.day)
    return {
        target: int(scans)
        for target, scans in session.execute(
            select(QrLink.target, func.sum(ScanCount.scans))
            .join(ScanCount, ScanCount.link_id == QrLink.id)
            .where(printed | on_screen)
            .group_by(QrLink.target)
        )
        if scans
    }
