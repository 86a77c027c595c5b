"""The waitlist: a union whose dates are taken leaves an email, and hears once, with a link to
the request form filled in, when a declined or cancelled hold frees those dates."""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from dataclasses import dataclass

from flask import render_template
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from pydantic import BaseModel, ValidationError, create_model
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from booking import notify, schema
from booking.availability import free_unit_id
from booking.catalog import CatalogOffering, active_offerings, offering_by_slug
from booking.errors import BookingError, InvalidBooking, UnknownOffering
from booking.models import Booking, WaitlistEntry
from booking.service import check_dates, date_errors, hash_token, lock_offering_calendar
from booking.status import BookingStatus
from core import outbox
from core.clock import LOCAL_TIMEZONE
from core.database import begin_write
from core.i18n import localized
from core.outbox import Composed, MailSettings

LINK_PATH = "/waitlist/{token}"  # booking.routes.waitlist_link
# A hold that ends this way gives its dates back to the calendar, and so to those waiting.
FREEING_STATUSES = (BookingStatus.DECLINED, BookingStatus.CANCELLED)
UNKNOWN_OFFERING = _l("Unknown offering.")
MAX_TOKEN_LENGTH = 200

log = logging.getLogger(__name__)

# What joining asks for: the request's own fields, so an email or a language is valid here
# exactly when it is valid on a request.
WaitlistRequest: type[BaseModel] = create_model(  # type: ignore[call-overload]
    "WaitlistRequest",
    __config__=schema.BookingRequest.model_config,
    __doc__="Be told once, by email, if these dates of the offering free up.",
    **{
        name: (schema.BookingRequest.model_fields[name].annotation, field)
        for name, field in schema.BookingRequest.model_fields.items()
        if name in ("offering", "start", "end", "email", "language")
    },
)


class UnknownWaitlistLink(BookingError):
    """No union was sent that waitlist link."""


def link_url(public_url: str, token: str) -> str:
    """The link in the email, on the configured public address."""
    return public_url + LINK_PATH.format(token=token)


def join_waitlist(
    session: Session,
    offering_slug: str,
    start: dt.date,
    end: dt.date,
    email: str,
    language: str,
    today: dt.date,
    now: dt.datetime,
) -> WaitlistEntry:
    """Put the union on the offering's waitlist for those dates, once: joining again with the
    same email and dates keeps the one entry. Raises InvalidBooking (a message per field);
    nothing is stored then. The caller commits."""
    values = dict(offering=offering_slug, start=start, end=end, email=email, language=language)
    errors: dict[str, object] = {}
    try:
        wanted = WaitlistRequest.model_validate(values)
    except ValidationError as error:
        errors = schema.messages(WaitlistRequest, error)
    offering = None
    try:
        offering = offering_by_slug(session, str(offering_slug))
    except UnknownOffering:
        errors.setdefault("offering", UNKNOWN_OFFERING)
    if offering is not None:
        # The dates a request could be made for: the link sent later fills in that request.
        errors = date_errors(offering, start, end, today) | errors
    if errors or offering is None:
        raise InvalidBooking(errors)  # type: ignore[arg-type]
    begin_write(session)
    # Two identical joins at the same moment queue here, so the second finds the first.
    lock_offering_calendar(session, offering.id)
    entry = session.scalar(
        select(WaitlistEntry).where(
            WaitlistEntry.offering_id == offering.id,
            WaitlistEntry.start_date == start,
            WaitlistEntry.end_date == end,
            func.lower(WaitlistEntry.email) == wanted.email.lower(),
            WaitlistEntry.notified_at.is_(None),
        )
    )
    if entry is None:
        entry = WaitlistEntry(
            offering_id=offering.id,
            start_date=start,
            end_date=end,
            email=wanted.email,
            # Never sent: the emailed link gets a token of its own when the dates free up.
            token_hash=hash_token(secrets.token_urlsafe(32)),
            language=wanted.language,
            created_at=now,
        )
        session.add(entry)
    else:
        entry.language = wanted.language  # the last choice is the one wanted
    session.flush()
    return entry


@dataclass(frozen=True)
class Claimed:
    """A waiting union chosen for its one message, as plain values (no database read is
    left for composing it), with the link's token (only its hash is stored)."""

    email: str
    language: str
    start: dt.date
    end: dt.date
    token: str


def tell_waiting(
    session: Session, mail: MailSettings, freed_booking: Booking, now: dt.datetime
) -> int:
    """Write once to each union waiting on dates of the offering that the freed booking
    (declined or cancelled, committed) gave back, and that are free now; returns how many.

    Entries are claimed first, in a write transaction of their own and committed: a
    conditional UPDATE takes each only while nobody has told it, so two cancellations at
    the same moment never send two messages. The messages are written and queued after,
    outside the lock. Whatever fails here is logged: the cancellation stands."""
    reference = None
    try:
        reference, offering_id = freed_booking.reference, freed_booking.offering_id
        blocked = (freed_booking.blocked_start, freed_booking.blocked_end)
        offering = next((o for o in active_offerings(session) if o.id == offering_id), None)
        if offering is None:  # retired: nobody may request it any more
            return 0
        claimed = _claim(session, offering, *blocked, now)
        session.commit()
    except Exception:  # noqa: BLE001 - the cancellation is committed and must be answered
        session.rollback()
        log.exception("the waitlist for %s was not read", reference)
        return 0
    if not claimed:
        return 0
    try:
        messages = [dates_freed(mail, offering, each) for each in claimed]
        notify.deliver(session, mail, notify.queue(session, mail, messages, now), now)
    except Exception:  # noqa: BLE001 - as above
        session.rollback()
        log.exception("waitlist messages after %s were not queued", reference)
    return len(claimed)


def _claim(
    session: Session,
    offering: CatalogOffering,
    freed_start: dt.date,
    freed_end: dt.date,
    now: dt.datetime,
) -> list[Claimed]:
    begin_write(session)
    today = now.astimezone(LOCAL_TIMEZONE).date()
    # An entry's dates need their own transit days too: those that touch the freed range.
    before = dt.timedelta(days=offering.buffer_before_days)
    after = dt.timedelta(days=offering.buffer_after_days)
    waiting = session.scalars(
        select(WaitlistEntry)
        .where(
            WaitlistEntry.offering_id == offering.id,
            WaitlistEntry.notified_at.is_(None),
            WaitlistEntry.start_date <= freed_end + before,
            WaitlistEntry.end_date >= freed_start - after,
        )
        .order_by(WaitlistEntry.id)
    ).all()
    claimed = []
    for entry in waiting:
        # Still taken (by another hold, or out of reach now): it stays on the list.
        if date_errors(offering, entry.start_date, entry.end_date, today):
            continue
        if free_unit_id(session, offering, entry.start_date, entry.end_date) is None:
            continue
        token = secrets.token_urlsafe(32)
        taken = session.execute(
            update(WaitlistEntry)
            .where(WaitlistEntry.id == entry.id, WaitlistEntry.notified_at.is_(None))
            .values(notified_at=now, token_hash=hash_token(token))
            .execution_options(synchronize_session=False)
        )
        if taken.rowcount == 1:  # type: ignore[attr-defined]
            claimed.append(
                Claimed(entry.email, entry.language, entry.start_date, entry.end_date, token)
            )
    return claimed


def dates_freed(mail: MailSettings, offering: CatalogOffering, claimed: Claimed) -> Composed:
    """The one message a waiting union gets, in its language."""
    link = link_url(mail.public_url, claimed.token)
    with force_locale(claimed.language):
        title = localized(offering, "title")
        return outbox.compose(
            sender=mail.sender,
            recipient=claimed.email,
            # Short, without the title: core.outbox refuses a subject folded over two lines.
            subject=str(_l("The dates you were waiting for are free again")),
            body=render_template(
                "booking/email/waitlist_freed.txt",
                title=title,
                start=claimed.start,
                end=claimed.end,
                link=link,
            ),
        )


@dataclass(frozen=True)
class WaitlistLink:
    entry: WaitlistEntry
    offering: CatalogOffering
    free: bool  # False once someone else has taken the dates: the link has expired


def open_link(session: Session, token: str, today: dt.date) -> WaitlistLink:
    """What an emailed link leads to. Reads only. Raises UnknownWaitlistLink."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        raise UnknownWaitlistLink()
    entry = session.scalar(
        select(WaitlistEntry).where(
            WaitlistEntry.token_hash == hash_token(token), WaitlistEntry.notified_at.is_not(None)
        )
    )
    if entry is None:
        raise UnknownWaitlistLink()
    offering = next((o for o in active_offerings(session) if o.id == entry.offering_id), None)
    if offering is None:
        raise UnknownWaitlistLink()
    check = check_dates(session, offering, entry.start_date, entry.end_date, today)
    return WaitlistLink(entry, offering, check.free)
