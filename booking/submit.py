"""A union's request or cancellation from start to finish, the same for the form, the API and
commands: the rules, the messages, the commit, one attempt to send."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

from booking import notify, service
from booking.models import Booking
from booking.schema import BookingRequest
from core.outbox import MailSettings


@dataclass(frozen=True)
class Submitted:
    booking: Booking
    manage_token: str
    manage_url: str


def submit_request(
    session: Session,
    mail: MailSettings,
    request: BookingRequest,
    today: dt.date,
    now: dt.datetime,
) -> Submitted:
    """Hold the dates and commit at once (the write lock is held for the rules alone), then
    write both messages, queue them, and try to send them. Raises what
    service.hold_dates raises; nothing is kept then."""
    held = service.hold_dates(session, request, today, now)
    session.commit()
    messages = notify.booking_requested(mail, held.booking, held.manage_token, now)
    notify.deliver(session, mail, notify.queue(session, mail, messages, now), now)
    link = notify.manage_url(mail.public_url, held.manage_token)
    return Submitted(held.booking, held.manage_token, link)


def withdraw_request(session: Session, mail: MailSettings, token: str, now: dt.datetime) -> Booking:
    """Cancel through the private link and tell the staff. Raises what
    service.cancel_booking raises; nothing is kept then."""
    booking = service.cancel_booking(session, token, now)
    session.commit()
    messages = notify.booking_cancelled(mail, booking)
    notify.deliver(session, mail, notify.queue(session, mail, messages, now), now)
    return booking


def send_new_link(
    session: Session, mail: MailSettings, reference: str, now: dt.datetime
) -> Booking:
    """Give a union a new private link by email (the old one stops working)."""
    renewed = service.renew_manage_token(session, reference)
    session.commit()
    messages = notify.link_renewed(mail, renewed.booking, renewed.manage_token, now)
    notify.deliver(session, mail, notify.queue(session, mail, messages, now), now)
    return renewed.booking
