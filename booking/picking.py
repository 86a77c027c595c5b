"""Picking a booking's dates on the month calendar, one day at a time: the same rule for the
offering page's links, the request form's buttons (without JavaScript) and the script."""

from __future__ import annotations

import datetime as dt

from booking.catalog import CatalogOffering


def pick_day(
    offering: CatalogOffering, first: dt.date | None, last: dt.date | None, day: dt.date
) -> tuple[dt.date, dt.date | None]:
    """The dates after clicking `day`: an offering of one fixed length takes its whole
    length from the day; otherwise the first click is the first day, the next (on or
    after it) the last, and a click before the first day, or once both are set, starts over."""
    if offering.min_days == offering.max_days:
        return day, day + dt.timedelta(days=offering.min_days - 1)
    if first is None or last is not None or day < first:
        return day, None
    return first, day


def chosen_days(
    offering: CatalogOffering, first: dt.date | None, last: dt.date | None
) -> tuple[dt.date | None, dt.date | None]:
    """The days a calendar shows as chosen: none without a first day; for an offering of one
    fixed length, its whole length from the first; a last day before the first is dropped."""
    if first is None:
        return None, None
    if offering.min_days == offering.max_days:
        return first, first + dt.timedelta(days=offering.min_days - 1)
    if last is not None and last < first:
        return first, None
    return first, last
