"""Bookings as iCalendar events: the union's calendar file, and the staff's subscription feeds."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from icalendar import Calendar, Event, vDuration

from booking.models import Booking

# How often a subscribed calendar should look again (RFC 7986, and Outlook's older name for
# it); Google Calendar keeps its own pace whatever the feed says.
FEED_REFRESH = dt.timedelta(hours=1)

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


def feed_calendar(name: str, events: Iterable[Event]) -> bytes:
    """A subscription feed: its name in calendar apps, how often to refresh, its events."""
    calendar = new_calendar()
    calendar.add("method", "PUBLISH")
    calendar.add("name", name)
    calendar.add("x-wr-calname", name)
    calendar.add("refresh-interval", FEED_REFRESH, parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", vDuration(FEED_REFRESH))
    for event in events:
        calendar.add_component(event)
    return calendar.to_ical()
