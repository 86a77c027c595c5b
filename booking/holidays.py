"""Québec's statutory holidays: the days an offering set to close on them (the training)
cannot be booked, named in the reader's language."""

from __future__ import annotations

import datetime as dt
import functools
import re
from typing import Protocol

import holidays
from babel import Locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from core.i18n import DEFAULT_LANGUAGE, current_language, format_day

COUNTRY, SUBDIVISION = "CA", "QC"
# The library's name for each of our languages; a language it lacks falls back to OWN_NAMES.
LIBRARY_LANGUAGES = {"fr": "fr", "en": "en_CA"}
FALLBACK_LANGUAGE = "en_CA"

# Our own names, read when the library has no names in the reader's language: the
# library's Canadian English names are the message ids.
OWN_NAMES = {
    "New Year's Day": _l("New Year's Day"),
    "Good Friday": _l("Good Friday"),
    "National Patriots' Day": _l("National Patriots' Day"),
    "Saint Jean Baptiste Day": _l("Saint Jean Baptiste Day"),
    "Canada Day": _l("Canada Day"),
    "Labour Day": _l("Labour Day"),
    "Thanksgiving Day": _l("Thanksgiving Day"),
    "Christmas Day": _l("Christmas Day"),
}
OBSERVED = re.compile(r"(.*) \(observed\)")


def reader_language() -> str:
    """The language of the page or message being written; the site's own outside a request
    (a command, a rule checked by a script), where no visitor chose one."""
    try:
        return current_language()
    except RuntimeError:  # no request to ask
        return DEFAULT_LANGUAGE


class ClosedOnHolidays(Protocol):
    closed_on_holidays: bool


@functools.lru_cache(maxsize=64)
def _holidays_of(year: int, library_language: str) -> dict[dt.date, str]:
    """The statutory holidays of one year (days off moved from a weekend included)."""
    found = holidays.country_holidays(
        COUNTRY, subdiv=SUBDIVISION, years=year, language=library_language
    )
    return dict(found.items())


def _own_name(english: str) -> str:
    observed = OBSERVED.fullmatch(english)
    if observed:
        return _("%(holiday)s (observed)", holiday=_own_name(observed[1]))
    return str(OWN_NAMES.get(english, english))


def holidays_between(first: dt.date, last: dt.date, language: str) -> dict[dt.date, str]:
    """The holidays from `first` to `last` (both included), named in `language`."""
    library_language = LIBRARY_LANGUAGES.get(language)
    found: dict[dt.date, str] = {}
    for year in range(first.year, last.year + 1):
        names = _holidays_of(year, library_language or FALLBACK_LANGUAGE)
        for day, name in names.items():
            if first <= day <= last:
                found[day] = name if library_language else _own_name(name)
    return dict(sorted(found.items()))


def closed_days(offering: ClosedOnHolidays, first: dt.date, last: dt.date) -> dict[dt.date, str]:
    """The days from `first` to `last` on which the offering is closed, with the holiday's
    name in the current language; none when the offering stays open on holidays."""
    if not offering.closed_on_holidays or last < first:
        return {}
    return holidays_between(first, last, reader_language())


def holiday_name(day: dt.date) -> str:
    """The name of the holiday on `day` in the current language ("" on other days)."""
    return holidays_between(day, day, reader_language()).get(day, "")


def day_and_month(day: dt.date) -> str:
    """ "25 décembre", "December 25": a holiday's date without its year."""
    pattern = Locale.parse(reader_language()).datetime_skeletons["MMMMd"].pattern
    return format_day(day, pattern)
