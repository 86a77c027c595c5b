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
    """Hold the dates and queue both messages in one transaction, then try to send them.
    Raises what service.hold_dates raises; nothing is kept then."""
    held = service.hold_dates(session, request, today, now)
    message_ids = notify.booking_requested(session, mail, held.booking, held.manage_token, now)
    session.commit()
    notify.deliver(session, mail, message_ids, now)
    link = notify.manage_url(mail.public_url, held.manage_token)
    return Submitted(held.booking, held.manage_token, link)


def withdraw_request(session: Session, mail: MailSettings, token: str, now: dt.datetime) -> Booking:
    """Cancel through the private link and tell the staff. Raises what
    service.cancel_booking raises; nothing is kept then."""
    booking = service.cancel_booking(session, token, now)
    message_ids = notify.booking_cancelled(session, mail, booking, now)
    session.commit()
    notify.deliver(session, mail, message_ids, now)
    return booking


def send_new_link(
    session: Session, mail: MailSettings, reference: str, now: dt.datetime
) -> Booking:
    """Give a union a new private link by email (the old one stops working)."""
    renewed = service.renew_manage_token(session, reference)
    message_ids = notify.link_renewed(session, mail, renewed.booking, renewed.manage_token, now)
    session.commit()
    notify.deliver(session, mail, message_ids, now)
    return renewed.booking
