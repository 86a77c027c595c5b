"""Reminders before a booking starts, to the union and the staff, and the staff's digest of
requests still undecided: what `flask --app run send-reminders` sends (cron, once a day)."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

import click
from flask import Flask, current_app, render_template
from flask.cli import with_appcontext
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, false, or_, select, update
from sqlalchemy.orm import Session, joinedload

from booking import notify
from booking.dashboard import WAITING_TOO_LONG_DAYS, PendingRequest, pending_requests
from booking.models import Booking, Offering
from booking.status import BookingStatus
from core import outbox
from core.clock import now_utc, today_local
from core.database import begin_write, get_session
from core.i18n import lazy_day, localized
from core.outbox import Composed, MailSettings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RemindersSent:
    reminders: int  # bookings whose union and staff were reminded
    waiting: int  # requests listed in the staff's digest (0: no digest was sent)

    def summary(self) -> str:
        reminders = _count(self.reminders, "reminder")
        if not self.waiting:
            return f"{reminders}, no digest (no request is waiting for a decision)"
        return f"{reminders}, 1 digest of {_count(self.waiting, 'request')}"


def _count(number: int, thing: str) -> str:
    return f"{number} {thing}{'' if number == 1 else 's'}"


def send_reminders(
    session: Session, mail: MailSettings, today: dt.date, now: dt.datetime
) -> RemindersSent:
    """Everything one cron run sends: the reminders that are due, then the digest."""
    reminded = remind_upcoming(session, mail, today, now)
    return RemindersSent(reminded, send_digest(session, mail, today, now))


# Reminders -------------------------------------------------------------------------------


def due_reminders(session: Session, today: dt.date) -> list[int]:
    """Confirmed bookings not reminded yet that start today or within their offering's
    reminder_days, soonest first."""
    offerings = session.execute(select(Offering.id, Offering.reminder_days)).all()
    within = or_(
        false(),
        *(
            and_(
                Booking.offering_id == offering_id,
                Booking.start_date <= today + dt.timedelta(days=days),
            )
            for offering_id, days in offerings
        ),
    )
    return list(
        session.scalars(
            select(Booking.id)
            .where(_still_to_remind(today), within)
            .order_by(Booking.start_date, Booking.id)
        )
    )


def _still_to_remind(today: dt.date):  # type: ignore[no-untyped-def]
    return and_(
        Booking.status == BookingStatus.CONFIRMED,
        Booking.reminder_sent_at.is_(None),
        Booking.start_date >= today,
    )


def claim_reminders(
    session: Session, booking_ids: list[int], today: dt.date, now: dt.datetime
) -> list[int]:
    """Mark the bookings reminded, in the caller's write transaction; returns those this
    run took. A booking another run took first (or that changed meanwhile) is left out,
    so however many runs overlap, each booking is reminded once."""
    if not booking_ids:
        return []
    return list(
        session.scalars(
            update(Booking)
            .where(Booking.id.in_(booking_ids), _still_to_remind(today))
            .values(reminder_sent_at=now)
            .returning(Booking.id)
            .execution_options(synchronize_session=False)
        )
    )


def remind_upcoming(session: Session, mail: MailSettings, today: dt.date, now: dt.datetime) -> int:
    """Claim the reminders that are due (one short write), then write and queue each
    booking's messages outside the lock; returns how many bookings were reminded."""
    begin_write(session)
    claimed = claim_reminders(session, due_reminders(session, today), today, now)
    session.commit()
    return sum(_remind(session, mail, booking_id, now) for booking_id in claimed)


def _remind(session: Session, mail: MailSettings, booking_id: int, now: dt.datetime) -> bool:
    booking = session.scalars(
        select(Booking)
        .where(Booking.id == booking_id)
        .options(joinedload(Booking.offering), joinedload(Booking.unit))
    ).one()
    try:
        message_ids = notify.queue(session, mail, reminder_messages(mail, booking, now), now)
    except Exception:  # noqa: BLE001 - the claim is given back: the next run tries again
        session.rollback()
        log.exception("the reminder of %s was not queued", booking.reference)
        begin_write(session)
        session.execute(
            update(Booking)
            .where(Booking.id == booking_id)
            .values(reminder_sent_at=None)
            .execution_options(synchronize_session=False)
        )
        session.commit()
        return False
    notify.deliver(session, mail, message_ids, now)
    return True


def reminder_messages(mail: MailSettings, booking: Booking, now: dt.datetime) -> list[Composed]:
    """The union's reminder in its language, with the calendar file as it stands, and the
    staff's in French. The date is formatted in each message's own language."""
    start = lazy_day(booking.start_date)
    return [
        notify.to_union(
            mail,
            booking,
            None,
            now,
            _l(
                "Reminder: your booking %(reference)s starts on %(date)s",
                reference=booking.reference,
                date=start,
            ),
            "booking/email/reminder.txt",
            staff_address=mail.staff_address,
        ),
        # The union's own words stay in the body: no text a union typed becomes a header.
        notify.to_staff(
            mail,
            booking,
            _l(
                "Reminder: %(reference)s starts on %(date)s",
                reference=booking.reference,
                date=start,
            ),
            "booking/email/staff_reminder.txt",
        ),
    ]


# The digest ------------------------------------------------------------------------------


def send_digest(session: Session, mail: MailSettings, today: dt.date, now: dt.datetime) -> int:
    """One message to the staff listing the requests still undecided, oldest first, with
    their age and a link to each; returns how many it lists (none is sent when nothing
    waits)."""
    waiting = pending_requests(session, today)
    if not waiting:
        return 0
    message = digest_message(mail, waiting)
    notify.deliver(session, mail, notify.queue(session, mail, [message], now), now)
    return len(waiting)


def digest_message(mail: MailSettings, waiting: list[PendingRequest]) -> Composed:
    with force_locale(notify.STAFF_LANGUAGE):
        requests = [
            {
                "booking": item.booking,
                "title": localized(item.booking.offering, "title"),
                "age_days": item.age_days,
                "waiting_too_long": item.waiting_too_long,
                "url": notify.staff_booking_url(mail.public_url, item.booking.reference),
            }
            for item in waiting
        ]
        return outbox.compose(
            sender=mail.sender,
            recipient=mail.staff_address,
            subject=_("Requests waiting for a decision: %(count)s", count=len(waiting)),
            body=render_template(
                "booking/email/staff_digest.txt",
                requests=requests,
                waiting_days=WAITING_TOO_LONG_DAYS,
            ),
        )


# The command -----------------------------------------------------------------------------


@click.command("send-reminders")
@with_appcontext
def send_reminders_command() -> None:
    """Remind unions and staff of bookings starting soon (each booking once) and send the
    staff a digest of undecided requests. Run it from cron once a day."""
    mail = MailSettings.from_config(current_app.config)
    sent = send_reminders(get_session(), mail, today_local(), now_utc())
    click.echo(sent.summary())


def init_app(app: Flask) -> None:
    app.cli.add_command(send_reminders_command)
