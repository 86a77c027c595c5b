"""A union's request or cancellation from start to finish: the rules, the messages, the commit."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask import current_app, url_for
from sqlalchemy.orm import Session

from booking import notify, service
from booking.models import Booking


@dataclass(frozen=True)
class Submitted:
    booking: Booking
    manage_token: str
    manage_url: str


def manage_url(token: str) -> str:
    """The union's private link, on the public address when one is configured."""
    public = current_app.config["PUBLIC_URL"]
    if public:
        return f"{public}{url_for('booking.manage', token=token)}"
    return url_for("booking.manage", token=token, _external=True)


def submit_request(
    session: Session, request: service.BookingRequest, today: dt.date, now: dt.datetime
) -> Submitted:
    """Hold the dates and queue both messages in one transaction, then try to send them.
    Raises what service.hold_dates raises; nothing is kept then."""
    held = service.hold_dates(session, request, today, now)
    link = manage_url(held.manage_token)
    message_ids = notify.booking_requested(session, held.booking, link, now)
    session.commit()
    notify.deliver(session, message_ids, now)
    return Submitted(held.booking, held.manage_token, link)


def withdraw_request(session: Session, token: str, now: dt.datetime) -> Booking:
    """Cancel through the private link and tell the staff. Raises what
    service.cancel_booking raises; nothing is kept then."""
    booking = service.cancel_booking(session, token, now)
    message_ids = notify.booking_cancelled(session, booking, now)
    session.commit()
    notify.deliver(session, message_ids, now)
    return booking
