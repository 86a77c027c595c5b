"""A booking's statuses and which may follow which: the one table every change of status reads."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum


class BookingStatus(StrEnum):
    REQUESTED = "requested"  # dates held until staff decide
    CONFIRMED = "confirmed"
    DECLINED = "declined"
    CANCELLED = "cancelled"
    COMPLETED = "completed"  # the exhibition came back, the training was given


HOLDING_STATUSES = (BookingStatus.REQUESTED, BookingStatus.CONFIRMED)

TRANSITIONS: dict[BookingStatus, frozenset[BookingStatus]] = {
    BookingStatus.REQUESTED: frozenset(
        {BookingStatus.CONFIRMED, BookingStatus.DECLINED, BookingStatus.CANCELLED}
    ),
    BookingStatus.CONFIRMED: frozenset({BookingStatus.CANCELLED, BookingStatus.COMPLETED}),
    BookingStatus.DECLINED: frozenset(),
    BookingStatus.CANCELLED: frozenset(),
    BookingStatus.COMPLETED: frozenset(),
}


def may_follow(current: BookingStatus, wanted: BookingStatus) -> bool:
    return wanted in TRANSITIONS[BookingStatus(current)]


def sql_in(column: str, values: Iterable[StrEnum]) -> str:
    """`column IN ('a', 'b')` written out literally, so that a query's condition matches a
    partial index's condition word for word (both SQLite and PostgreSQL compare them)."""
    return f"{column} IN ({', '.join(repr(str(value)) for value in values)})"
