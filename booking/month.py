"""A month of an offering's days laid out in weeks, and the months one may navigate to."""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from booking.availability import BOOKING_HORIZON_YEARS, Day, DayReason, day_states, latest_start
from booking.catalog import CatalogOffering

MONTH_PATTERN = re.compile(r"^([0-9]{4})-([0-9]{2})$")


# What the calendar writes in a day's cell, by the reason the rules gave for it.
DAY_LABELS = {
    DayReason.FREE: _l("free"),
    DayReason.PAST: _l("past"),
    DayReason.TOO_SOON: _l("too soon"),
    DayReason.TOO_FAR: _l("too far ahead"),
    DayReason.GAP_TOO_SHORT: _l("gap too short"),
    DayReason.HELD: _l("held"),
    DayReason.BOOKED: _l("booked"),
    DayReason.BUFFER: _l("transit"),
    DayReason.CLOSED: _l("closed"),
}
# Days that are free on the calendar but cannot be part of a request: shown alike.
UNAVAILABLE = frozenset(
    {DayReason.PAST, DayReason.TOO_SOON, DayReason.TOO_FAR, DayReason.GAP_TOO_SHORT}
)
PICKED_LABEL = _l("chosen")


class InvalidMonth(ValueError):
    pass


@dataclass(frozen=True)
class MonthView:
    first: dt.date
    today: dt.date
    weekdays: list[dt.date]  # the dates of the first row, to name the columns
    weeks: list[list[Day | None]]
    previous: dt.date | None
    next: dt.date | None
    months: list[dt.date]  # every month one may jump to, as its first day
    fixed_days: int | None  # the length of every booking, when the offering has only one

    horizon_years = BOOKING_HORIZON_YEARS

    def labels(self) -> dict[str, str]:
        """Each reason's words, translated once for the page rather than once per day."""
        return {reason: str(label) for reason, label in DAY_LABELS.items()}

    def picked_label(self) -> str:
        return str(PICKED_LABEL)

    def pickable(self, day: Day) -> bool:
        """A day one may click: part of a booking that fits; for an offering of one fixed
        length, whose booking then starts on it, the first day of one."""
        return day.can_start if self.fixed_days else day.bookable

    def reason(self, day: Day) -> DayReason:
        """Why the day can or cannot be clicked: a free day that cannot start a booking of an
        offering's one length has too short a gap after it."""
        if day.reason == DayReason.FREE and not self.pickable(day):
            return DayReason.GAP_TOO_SHORT
        return day.reason

    def unavailable(self, day: Day) -> bool:
        return self.reason(day) in UNAVAILABLE


def first_of(value: str | None) -> dt.date | None:
    """'2027-03' as the first of that month; None when it is not written so."""
    match = MONTH_PATTERN.match(value or "")
    if not match or not 1 <= int(match[2]) <= 12 or int(match[1]) < dt.MINYEAR:
        return None
    return dt.date(int(match[1]), int(match[2]), 1)


def parse_month(value: str | None, today: dt.date, opens: dt.date) -> dt.date:
    """'2027-03' as the first of that month; when absent, the month of the first day that
    can be requested (`opens`), so the calendar opens where there is something to pick."""
    if not value:
        return opens.replace(day=1)
    first = first_of(value)
    if first is None or not today.replace(day=1) <= first <= last_month(today):
        raise InvalidMonth(value)
    return first


def last_month(today: dt.date) -> dt.date:
    """The month of the last day requests are taken for."""
    return latest_start(today).replace(day=1)


def month_view(
    session: Session, offering: CatalogOffering, first: dt.date, today: dt.date
) -> MonthView:
    last = _add_months(first, 1) - dt.timedelta(days=1)
    by_date = {day.date: day for day in day_states(session, offering, first, last, today)}
    grid = calendar.Calendar(firstweekday=calendar.MONDAY).monthdatescalendar(
        first.year, first.month
    )
    weeks = [[by_date.get(date) for date in week] for week in grid]
    return MonthView(
        first=first,
        today=today,
        weekdays=grid[0],
        weeks=weeks,
        previous=_add_months(first, -1) if first > today.replace(day=1) else None,
        next=_add_months(first, 1) if first < last_month(today) else None,
        months=months_shown(today),
        fixed_days=offering.min_days if offering.min_days == offering.max_days else None,
    )


def months_shown(today: dt.date) -> list[dt.date]:
    """From this month to the month of the last day requests are taken for."""
    months = [today.replace(day=1)]
    while months[-1] < last_month(today):
        months.append(_add_months(months[-1], 1))
    return months


def _add_months(first: dt.date, months: int) -> dt.date:
    index = first.year * 12 + first.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)
