"""A month of an offering's days laid out in weeks, and the months one may navigate to."""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from booking.availability import Day, DayReason, day_states, latest_start
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
}


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


def parse_month(value: str | None, today: dt.date, opens: dt.date) -> dt.date:
    """'2027-03' as the first of that month; when absent, the month of the first day that
    can be requested (`opens`), so the calendar opens where there is something to pick."""
    if not value:
        return opens.replace(day=1)
    match = MONTH_PATTERN.match(value)
    if not match or not 1 <= int(match[2]) <= 12 or int(match[1]) < dt.MINYEAR:
        raise InvalidMonth(value)
    first = dt.date(int(match[1]), int(match[2]), 1)
    if not today.replace(day=1) <= first <= _last_month(today):
        raise InvalidMonth(value)
    return first


def _last_month(today: dt.date) -> dt.date:
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
        next=_add_months(first, 1) if first < _last_month(today) else None,
    )


def _add_months(first: dt.date, months: int) -> dt.date:
    index = first.year * 12 + first.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)
