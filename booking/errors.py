"""Domain errors of the booking rules; the web layer turns each into one status code."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from booking.availability import Window


class BookingError(Exception):
    pass


class UnknownOffering(BookingError):
    """No active offering has that slug."""


class InvalidBooking(BookingError):
    """The request breaks a rule; `errors` maps each field to a message for the user."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(errors)
        self.errors = errors


class DatesTaken(BookingError):
    """No unit is free on those dates; `next_available` lists windows of the same length."""

    def __init__(self, next_available: list[Window]) -> None:
        super().__init__(next_available)
        self.next_available = next_available


class BookingNotFound(BookingError):
    """No booking has that private link."""


class StatusChangeRefused(BookingError):
    """The booking's status may not change that way (booking.status.TRANSITIONS): a
    cancelled request cannot be cancelled again, nor a declined one confirmed."""

    def __init__(self, current: str, wanted: str) -> None:
        super().__init__(f"{current} -> {wanted}")
        self.current = current
        self.wanted = wanted


class TryAgain(BookingError):
    """Every attempt lost a race to other requests at that very moment; nothing was held."""


class CalendarConflict(BookingError):
    """A staff change would overlap what already holds those days: `holder` names it (a
    booking's reference, or a blackout's reason and dates)."""

    def __init__(self, holder: str) -> None:
        super().__init__(holder)
        self.holder = holder
