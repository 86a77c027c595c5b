"""A union's request or cancellation from start to finish, the same for the form, the API and
commands: the rules, the messages, the commit, one attempt to send."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from booking import notify, service, waitlist
from booking.models import Booking
from booking.schema import BookingRequest
from core.outbox import Composed, MailSettings

log = logging.getLogger(__name__)


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
    send_after_commit(
        session,
        mail,
        held.booking,
        now,
        lambda: notify.booking_requested(mail, held.booking, held.manage_token, now),
    )
    link = notify.manage_url(mail.public_url, held.manage_token)
    return Submitted(held.booking, held.manage_token, link)


def withdraw_request(session: Session, mail: MailSettings, token: str, now: dt.datetime) -> Booking:
    """Cancel through the private link, tell the union (in its language) and the staff, and
    tell the unions waiting for those dates. Raises what service.cancel_booking raises;
    nothing is kept then."""
    booking = service.cancel_booking(session, token, now)
    # A status change a calendar shows: the cancellation's calendar file replaces the event
    # the union may have added from its request's (as a staff decision does).
    booking.sequence += 1
    session.commit()
    send_after_commit(
        session, mail, booking, now, lambda: notify.booking_cancelled(mail, booking, now)
    )
    waitlist.tell_waiting(session, mail, booking, now)
    return booking


def send_new_link(
    session: Session, mail: MailSettings, reference: str, now: dt.datetime
) -> Booking:
    """Give a union a new private link by email (the old one stops working)."""
    renewed = service.renew_manage_token(session, reference)
    session.commit()
    send_after_commit(
        session,
        mail,
        renewed.booking,
        now,
        lambda: notify.link_renewed(mail, renewed.booking, renewed.manage_token, now),
    )
    return renewed.booking


def send_after_commit(
    session: Session,
    mail: MailSettings,
    booking: Booking,
    now: dt.datetime,
    write: Callable[[], list[Composed]],
) -> None:
    """Write, queue and try to send a change's messages once the change is committed
    (outside its lock). The change stands whatever happens here: a failure is logged with
    the reference, never answered as "nothing was changed"."""
    try:
        messages = write()
        notify.deliver(session, mail, notify.queue(session, mail, messages, now), now)
    except Exception:  # noqa: BLE001 - the union's change is kept and must be answered
        session.rollback()
        log.exception("messages of %s were not queued", booking.reference)
