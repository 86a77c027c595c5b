"""The centre's clock: bookings are in local dates of Montréal, whatever the server's zone."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

TIMEZONE_NAME = "America/Montreal"
LOCAL_TIMEZONE = ZoneInfo(TIMEZONE_NAME)


def today_local() -> dt.date:
    return dt.datetime.now(LOCAL_TIMEZONE).date()


def now_utc() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def as_utc(moment: dt.datetime) -> dt.datetime:
    """A stored time with its zone: SQLite hands back the UTC times it was given without it."""
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
