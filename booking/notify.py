"""The messages a booking sends: acknowledgement to the union, notices to the staff address."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from sqlalchemy.orm import Session

from booking.ics import booking_calendar
from booking.models import Booking
from core import outbox
from core.i18n import localized


def _queue(
    session: Session,
    recipient: str,
    subject: str,
    body: str,
    now: dt.datetime,
    attachments: list[tuple[str, str, bytes]] | None = None,
) -> int:
    config = current_app.config
    message = outbox.compose(
        sender=config["MAIL_FROM"],
        recipient=recipient,
        subject=subject,
        body=body,
        attachments=attachments or [],
    )
    return outbox.queue(session, message, Path(config["DATA_DIR"]), now)


def booking_requested(
    session: Session, booking: Booking, manage_url: str, now: dt.datetime
) -> list[int]:
    """Queue the union's acknowledgement and the staff notice; returns their outbox ids."""
    with force_locale(booking.language):
        title = localized(booking.offering, "title")
        invite = booking_calendar(booking, title, manage_url, now)
        acknowledgement = _queue(
            session,
            booking.email,
            _("Your request %(reference)s is received", reference=booking.reference),
            render_template(
                "booking/email/requested.txt", booking=booking, title=title, manage_url=manage_url
            ),
            now,
            [(f"{booking.reference}.ics", "text/calendar", invite)],
        )
    subject = _l(
        "New request %(reference)s: %(organization)s",
        reference=booking.reference,
        organization=booking.organization,
    )
    return [
        acknowledgement,
        _tell_staff(session, booking, subject, "booking/email/staff_requested.txt", now),
    ]


def booking_cancelled(session: Session, booking: Booking, now: dt.datetime) -> list[int]:
    subject = _l(
        "Request %(reference)s cancelled by %(organization)s",
        reference=booking.reference,
        organization=booking.organization,
    )
    return [_tell_staff(session, booking, subject, "booking/email/staff_cancelled.txt", now)]


def _tell_staff(
    session: Session, booking: Booking, subject: LazyString, template: str, now: dt.datetime
) -> int:
    """Staff read French whatever the union's language."""
    with force_locale("fr"):
        title = localized(booking.offering, "title")
        body = render_template(template, booking=booking, title=title)
        return _queue(session, current_app.config["STAFF_EMAIL"], str(subject), body, now)


def deliver(session: Session, message_ids: list[int], now: dt.datetime) -> int:
    """Try to send the messages a request just queued; earlier failures are left to
    `send-outbox`, so a mail server that is down costs a request one attempt at most."""
    smtp = outbox.smtp_settings(current_app.config)
    return outbox.deliver_pending(session, smtp, now, only=message_ids)
