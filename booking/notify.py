"""The messages a booking sends: to the union in its language, notices to the staff address.

Every function takes the mail settings as a value: a request, a staff action and a command
send the same messages. Messages are written (templates drawn in the caller's app context)
without touching the database; `queue` then stores them in one short step, so composing
mail never happens while a hold keeps the write lock."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from flask import render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from sqlalchemy.orm import Session

from booking.ics import booking_calendar
from booking.models import Booking
from booking.status import BookingStatus
from core import outbox
from core.database import begin_write
from core.i18n import localized
from core.outbox import Composed, MailSettings

STAFF_LANGUAGE = "fr"  # the centre's staff read French, whatever the union's language
# The pages a message links to (tests check each against the app's URL map). Links are
# built on the configured public address, never on the Host a request named.
MANAGE_PATH = "/bookings/{token}"  # the union's private page (booking.manage)
LOST_LINK_PATH = "/bookings/lost-link"  # "Lost your link?" (booking.lost_link)
BOOK_PATH = "/book/{slug}"  # an offering's request form (booking.book)
STAFF_BOOKING_PATH = "/staff/bookings/{reference}"  # the desk's booking page (desk.booking_page)


def manage_url(public_url: str, token: str) -> str:
    """The union's private link, on the configured public address."""
    return public_url + MANAGE_PATH.format(token=token)


def lost_link_url(public_url: str) -> str:
    return public_url + LOST_LINK_PATH


def book_url(public_url: str, slug: str) -> str:
    """Where a union books an offering again."""
    return public_url + BOOK_PATH.format(slug=slug)


def staff_booking_url(public_url: str, reference: str) -> str:
    """A booking's page on the staff desk, where staff act on it."""
    return public_url + STAFF_BOOKING_PATH.format(reference=reference)


def booking_requested(
    mail: MailSettings, booking: Booking, token: str, now: dt.datetime
) -> list[Composed]:
    """The union's acknowledgement and the staff notice."""
    return [
        to_union(
            mail,
            booking,
            token,
            now,
            _l("Your request %(reference)s is received", reference=booking.reference),
            "booking/email/requested.txt",
            lost_link_url=lost_link_url(mail.public_url),
        ),
        # The union's own words stay in the body: no text a union typed becomes a header.
        to_staff(
            mail,
            booking,
            _l("New request %(reference)s", reference=booking.reference),
            "booking/email/staff_requested.txt",
        ),
    ]


def link_renewed(
    mail: MailSettings, booking: Booking, token: str, now: dt.datetime
) -> list[Composed]:
    """The union's new private link, after staff renewed it."""
    return [
        to_union(
            mail,
            booking,
            token,
            now,
            _l("Your new link for request %(reference)s", reference=booking.reference),
            "booking/email/link_renewed.txt",
        )
    ]


def booking_cancelled(mail: MailSettings, booking: Booking, now: dt.datetime) -> list[Composed]:
    """The union cancelled through its private link: it hears that it is done (with the
    calendar file marking the event cancelled, and where to book again); the staff too."""
    return [
        to_union(
            mail,
            booking,
            None,
            now,
            _l("Your request %(reference)s is cancelled", reference=booking.reference),
            "booking/email/cancelled_by_union.txt",
            book_url=book_url(mail.public_url, booking.offering.slug),
        ),
        to_staff(
            mail,
            booking,
            _l("Request %(reference)s cancelled by the union", reference=booking.reference),
            "booking/email/staff_cancelled.txt",
        ),
    ]


def status_changed(mail: MailSettings, booking: Booking, now: dt.datetime) -> list[Composed]:
    """The union hears of a staff decision in its language; a confirmed booking's message
    carries the updated calendar file."""
    subject, template = UNION_NOTICES[booking.status]
    return [
        to_union(
            mail,
            booking,
            None,
            now,
            subject(booking.reference),
            template,
            with_calendar=booking.status == BookingStatus.CONFIRMED,
        )
    ]


def dates_moved(mail: MailSettings, booking: Booking, now: dt.datetime) -> list[Composed]:
    """New dates or another unit: the union gets the updated calendar file."""
    subject = _l("New dates for your booking %(reference)s", reference=booking.reference)
    return [to_union(mail, booking, None, now, subject, "booking/email/moved.txt")]


UNION_NOTICES = {
    BookingStatus.CONFIRMED: (
        lambda reference: _l("Your booking %(reference)s is confirmed", reference=reference),
        "booking/email/confirmed.txt",
    ),
    BookingStatus.DECLINED: (
        lambda reference: _l("Your request %(reference)s was declined", reference=reference),
        "booking/email/declined.txt",
    ),
    BookingStatus.CANCELLED: (
        lambda reference: _l("Your booking %(reference)s is cancelled", reference=reference),
        "booking/email/cancelled_by_staff.txt",
    ),
}


def to_union(
    mail: MailSettings,
    booking: Booking,
    token: str | None,
    now: dt.datetime,
    subject: LazyString,
    template: str,
    with_calendar: bool = True,
    **context: object,
) -> Composed:
    """A message to the union in its language: the subject (lazy) is translated, and any
    date in it formatted, once that language is set. `token` None: a staff message, sent
    without the private link (only its hash is kept). `context`: the template's own values."""
    link = manage_url(mail.public_url, token) if token else None
    with force_locale(booking.language):
        title = localized(booking.offering, "title")
        calendar = (
            f"{booking.reference}.ics",
            "text/calendar",
            booking_calendar(booking, title, link, now),
        )
        return outbox.compose(
            sender=mail.sender,
            recipient=booking.email,
            subject=str(subject),
            body=render_template(
                template, booking=booking, title=title, manage_url=link, **context
            ),
            attachments=[calendar] if with_calendar else [],
        )


def to_staff(
    mail: MailSettings, booking: Booking, subject: LazyString, template: str, **context: object
) -> Composed:
    """Staff read French whatever the union's language. A reply goes to the union: its
    address, as the booking schema validated it, is the only thing of the union's in a
    header (never its name). `desk_url`, the booking on the staff desk, is in the context."""
    reply_to = booking.email if outbox.is_plain_address(booking.email) else None
    values = {"desk_url": staff_booking_url(mail.public_url, booking.reference), **context}
    with force_locale(STAFF_LANGUAGE):
        title = localized(booking.offering, "title")
        return outbox.compose(
            sender=mail.sender,
            recipient=mail.staff_address,
            subject=str(subject),
            body=render_template(template, booking=booking, title=title, **values),
            reply_to=reply_to,
        )


def private_links(mail: MailSettings, links: Sequence[tuple[Booking, str]]) -> Composed:
    """The answer to "Lost your link?": one message listing each booking with its new
    private link (the token given with it), to the address that made them, in the language
    of the newest."""
    newest = max((booking for booking, _token in links), key=lambda booking: booking.created_at)
    with force_locale(newest.language):
        items = [
            {
                "booking": booking,
                "title": localized(booking.offering, "title"),
                "url": manage_url(mail.public_url, token),
            }
            for booking, token in links
        ]
        return outbox.compose(
            sender=mail.sender,
            recipient=newest.email,
            subject=_("Your private links to your requests"),
            body=render_template(
                "booking/email/lost_link.txt",
                items=items,
                lost_link_url=lost_link_url(mail.public_url),
            ),
        )


def queue(
    session: Session, mail: MailSettings, messages: list[Composed], now: dt.datetime
) -> list[int]:
    """Store the messages in the outbox and commit; returns their ids. A write transaction
    of its own: drawing the messages may have read (lazy loads), and SQLite refuses to turn
    such a read into a write once another writer has committed."""
    begin_write(session)
    ids = [outbox.queue(session, message, mail.eml_dir, now) for message in messages]
    session.commit()
    return ids


def deliver(session: Session, mail: MailSettings, message_ids: list[int], now: dt.datetime) -> int:
    """Try to send the messages just queued; earlier failures are left to `send-outbox`,
    so a mail server that is down costs a request one attempt at most."""
    return outbox.deliver_pending(session, mail, now, only=message_ids)
