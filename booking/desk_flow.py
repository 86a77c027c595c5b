"""A staff change from start to finish: the change and its audit event committed, then the
union's message written and sent outside the lock, as a union's own request is
(booking.submit)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from booking import decisions, notify, waitlist
from booking.models import Booking
from booking.status import BookingStatus
from booking.submit import send_after_commit
from core.outbox import MailSettings


def decide_and_tell(
    session: Session,
    mail: MailSettings,
    reference: str,
    wanted: BookingStatus,
    message: str,
    actor: str,
    now: dt.datetime,
) -> Booking:
    """Raises what decisions.decide raises; nothing is kept then."""
    booking = decisions.decide(session, reference, wanted, message, actor, now)
    session.commit()
    if booking.status in notify.UNION_NOTICES:
        send_after_commit(
            session, mail, booking, now, lambda: notify.status_changed(mail, booking, now)
        )
    if wanted in waitlist.FREEING_STATUSES:
        waitlist.tell_waiting(session, mail, booking, now)
    return booking


def move_and_tell(
    session: Session,
    mail: MailSettings,
    reference: str,
    start: dt.date,
    end: dt.date,
    unit_id: int,
    actor: str,
    now: dt.datetime,
) -> Booking:
    """Raises what decisions.move raises; nothing is kept then."""
    booking = decisions.move(session, reference, start, end, unit_id, actor, now)
    session.commit()
    send_after_commit(session, mail, booking, now, lambda: notify.dates_moved(mail, booking, now))
    return booking
