"""The messages a booking sends: to the union in its language, notices to the staff address.

Every function takes the mail settings as a value: a request, a staff action and a command
send the same messages. Templates are drawn in the app context the caller has."""

from __future__ import annotations

import datetime as dt

from flask import render_template
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from sqlalchemy.orm import Session

from booking.ics import booking_calendar
from booking.models import Booking
from core import outbox
from core.i18n import localized
from core.outbox import MailSettings

MANAGE_PATH = "/bookings/{token}"  # the union's private page (booking.routes.manage)


def manage_url(public_url: str, token: str) -> str:
    """The union's private link, on the configured public address."""
    return public_url + MANAGE_PATH.format(token=token)


def _queue(
    session: Session,
    mail: MailSettings,
    recipient: str,
    subject: str,
    body: str,
    now: dt.datetime,
    attachments: list[tuple[str, str, bytes]] | None = None,
) -> int:
    message = outbox.compose(
        sender=mail.sender,
        recipient=recipient,
        subject=subject,
        body=body,
        attachments=attachments or [],
    )
    return outbox.queue(session, message, mail.eml_dir, now)


def booking_requested(
    session: Session, mail: MailSettings, booking: Booking, token: str, now: dt.datetime
) -> list[int]:
    """Queue the union's acknowledgement and the staff notice; returns their outbox ids."""
    acknowledgement = _tell_union(
        session,
        mail,
        booking,
        token,
        now,
        _l("Your request %(reference)s is received", reference=booking.reference),
        "booking/email/requested.txt",
    )
    # The union's own words stay in the body: no text a union typed becomes a header.
    subject = _l("New request %(reference)s", reference=booking.reference)
    return [
        acknowledgement,
        _tell_staff(session, mail, booking, subject, "booking/email/staff_requested.txt", now),
    ]


def link_renewed(
    session: Session, mail: MailSettings, booking: Booking, token: str, now: dt.datetime
) -> list[int]:
    """The union's new private link, after staff renewed it."""
    return [
        _tell_union(
            session,
            mail,
            booking,
            token,
            now,
            _l("Your new link for request %(reference)s", reference=booking.reference),
            "booking/email/link_renewed.txt",
        )
    ]


def booking_cancelled(
    session: Session, mail: MailSettings, booking: Booking, now: dt.datetime
) -> list[int]:
    subject = _l("Request %(reference)s cancelled by the union", reference=booking.reference)
    return [_tell_staff(session, mail, booking, subject, "booking/email/staff_cancelled.txt", now)]


def _tell_union(
    session: Session,
    mail: MailSettings,
    booking: Booking,
    token: str,
    now: dt.datetime,
    subject: LazyString,  # translated once the union's language is set
    template: str,
) -> int:
    link = manage_url(mail.public_url, token)
    with force_locale(booking.language):
        title = localized(booking.offering, "title")
        invite = booking_calendar(booking, title, link, now)
        return _queue(
            session,
            mail,
            booking.email,
            str(subject),
            render_template(template, booking=booking, title=title, manage_url=link),
            now,
            [(f"{booking.reference}.ics", "text/calendar", invite)],
        )


def _tell_staff(
    session: Session,
    mail: MailSettings,
    booking: Booking,
    subject: LazyString,
    template: str,
    now: dt.datetime,
) -> int:
    """Staff read French whatever the union's language."""
    with force_locale("fr"):
        title = localized(booking.offering, "title")
        body = render_template(template, booking=booking, title=title)
        return _queue(session, mail, mail.staff_address, str(subject), body, now)


def deliver(session: Session, mail: MailSettings, message_ids: list[int], now: dt.datetime) -> int:
    """Try to send the messages just queued; earlier failures are left to `send-outbox`,
    so a mail server that is down costs a request one attempt at most."""
    return outbox.deliver_pending(session, mail, now, only=message_ids)
