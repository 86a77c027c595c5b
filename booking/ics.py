"""A booking as an iCalendar event, for the union's calendar and the acknowledgement email."""

from __future__ import annotations

import datetime as dt

from icalendar import Calendar, Event

from booking.models import Booking

ICS_STATUS = {"requested": "TENTATIVE", "confirmed": "CONFIRMED", "completed": "CONFIRMED"}


def new_calendar() -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", "-//Ambulante//Booking//FR")
    calendar.add("version", "2.0")
    return calendar


def booking_event(booking: Booking, summary: str, link: str | None, now: dt.datetime) -> Event:
    """One event per booking, whatever calendar carries it: the same UID everywhere, and a
    SEQUENCE raised by every change, so calendars update it in place."""
    event = Event()
    event.add("uid", f"{booking.reference}@ambulante")
    event.add("sequence", booking.sequence)
    event.add("dtstamp", now)
    event.add("summary", summary)
    event.add("dtstart", booking.start_date)
    event.add("dtend", booking.end_date + dt.timedelta(days=1))  # DTEND is exclusive
    event.add("location", f"{booking.venue}, {booking.address}, {booking.city}")
    if link:
        event.add("description", link)
        event.add("url", link)
    event.add("status", ICS_STATUS.get(booking.status, "CANCELLED"))
    return event


def booking_calendar(
    booking: Booking, title: str, manage_url: str | None, now: dt.datetime
) -> bytes:
    """The union's own calendar file (the private link in it when there is one)."""
    calendar = new_calendar()
    calendar.add("method", "PUBLISH")
    calendar.add_component(
        booking_event(booking, f"{title} ({booking.reference})", manage_url, now)
    )
    return calendar.to_ical()
