"""A booking as an iCalendar event, for the union's calendar and the acknowledgement email."""

from __future__ import annotations

import datetime as dt

from icalendar import Calendar, Event

from booking.models import Booking

ICS_STATUS = {"requested": "TENTATIVE", "confirmed": "CONFIRMED", "completed": "CONFIRMED"}


def booking_calendar(booking: Booking, title: str, manage_url: str, now: dt.datetime) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", "-//Ambulante//Booking//FR")
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    event = Event()
    event.add("uid", f"{booking.reference}@ambulante")
    event.add("dtstamp", now)
    event.add("summary", f"{title} ({booking.reference})")
    event.add("dtstart", booking.start_date)
    event.add("dtend", booking.end_date + dt.timedelta(days=1))  # DTEND is exclusive
    event.add("location", f"{booking.venue}, {booking.address}, {booking.city}")
    event.add("description", manage_url)
    event.add("url", manage_url)
    event.add("status", ICS_STATUS.get(booking.status, "CANCELLED"))
    calendar.add_component(event)
    return calendar.to_ical()
