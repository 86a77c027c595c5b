"""The answer to "Lost your link?": every active booking's private link sent again, in one
message, to the address that made them; and the thread that does it beside the requests.

Only a hash of each private link is kept, so a link is given again by renewing it: the links
sent before stop working. Anyone who knows a union's address can ask, so asking breaks a
union's old links at most once per QUIET_TIME, and each time the new links reach the
union's own mailbox (never the person asking), in the same step as the renewal: a link
never stops working without its replacement queued. The page answers the same, at the
same speed, whether or not the address has bookings: the work is done after the answer
(`LinkSender`), never while the person waits."""

from __future__ import annotations

import datetime as dt
import logging
import queue
import threading
from collections.abc import Callable
from typing import Any

from flask import Flask
from flask_babel import lazy_gettext as _l
from pydantic import BaseModel, ValidationError, create_model
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from booking import notify, schema
from booking.errors import InvalidBooking
from booking.models import Booking
from booking.service import hash_token, new_manage_token
from booking.status import HOLDING_STATUSES
from core.clock import now_utc, today_local
from core.database import begin_write, session_for
from core.outbox import MailSettings
from core.staff import audit
from core.staff.models import AuditEvent

QUIET_TIME = dt.timedelta(minutes=10)  # one message per address in that time, however asked
ACTION = "link_resent"
ACTION_LABELS = {ACTION: _l("private link sent again (lost link)")}
NO_ADDRESS = _l("Enter the email address you gave with your request.")

log = logging.getLogger(__name__)

# The address is read by the request's own rule (booking.schema): what a union could
# book with is what it can ask with, and nothing else reaches the database.
LostLinkRequest: type[BaseModel] = create_model(  # type: ignore[call-overload]
    "LostLinkRequest",
    __config__=schema.BookingRequest.model_config,
    email=(
        schema.BookingRequest.model_fields["email"].annotation,
        schema.BookingRequest.model_fields["email"],
    ),
)


def read_address(typed: str) -> str:
    """The address as the booking schema keeps it (its domain in ASCII form). Raises
    InvalidBooking({"email": message}) for an empty, overlong, control-character or
    malformed one."""
    try:
        return LostLinkRequest.model_validate({"email": typed}).email  # type: ignore[attr-defined]
    except ValidationError as error:
        message = schema.messages(LostLinkRequest, error)["email"]
        raise InvalidBooking(
            {"email": NO_ADDRESS if message is schema.REQUIRED else message}
        ) from None


def active_bookings(session: Session, address: str, today: dt.date) -> list[Booking]:
    """Requests and confirmed bookings made with the address (whatever its case) that are
    not over yet, oldest first."""
    return list(
        session.scalars(
            select(Booking)
            .where(
                func.lower(Booking.email) == address.lower(),
                Booking.status.in_(HOLDING_STATUSES),
                Booking.end_date >= today,
            )
            .order_by(Booking.start_date, Booking.id)
        )
    )


def _sent_lately(session: Session, bookings: list[Booking], now: dt.datetime) -> bool:
    keys = [booking.reference for booking in bookings]
    return (
        session.scalar(
            select(AuditEvent.id)
            .where(
                AuditEvent.subject == "booking",
                AuditEvent.subject_key.in_(keys),
                AuditEvent.action == ACTION,
                AuditEvent.at > now - QUIET_TIME,
            )
            .limit(1)
        )
        is not None
    )


def send_links(
    session: Session, mail: MailSettings, address: str, today: dt.date, now: dt.datetime
) -> int:
    """Renew the private link of each active booking made with `address` and queue one
    message listing them all; returns how many it lists (0: nothing was sent, because the
    address has no active booking or was sent its links less than QUIET_TIME ago).

    The message is written before the write transaction (no lock held while drawing it);
    the renewals, their audit events and the message are then committed together."""
    bookings = active_bookings(session, address, today)
    if not bookings or _sent_lately(session, bookings, now):
        session.rollback()
        return 0
    tokens = {booking.id: new_manage_token() for booking in bookings}
    message = notify.private_links(mail, [(booking, tokens[booking.id]) for booking in bookings])
    begin_write(session)
    # Read again under the write lock: two askings at once send one message.
    locked = list(
        session.scalars(
            select(Booking)
            .where(Booking.id.in_(tokens))
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    )
    if not locked or _sent_lately(session, locked, now):
        session.rollback()
        return 0
    for booking in locked:
        booking.manage_token_hash = hash_token(tokens[booking.id])
        audit.record(
            session,
            actor=booking.email,
            subject="booking",
            key=booking.reference or str(booking.id),
            action=ACTION,
            at=now,
        )
    message_ids = notify.queue(session, mail, [message], now)  # commits
    notify.deliver(session, mail, message_ids, now)
    return len(locked)


class LinkSender:
    """Sends lost links one asking at a time, in a thread of its own started on first use
    (in each process that serves requests), so the page that asked is answered first.
    A bounded queue: past QUEUE_SIZE waiting askings, more are dropped (and logged); the
    person asking is answered the same and may ask again."""

    QUEUE_SIZE = 200

    def __init__(self) -> None:
        self._jobs: queue.Queue[Callable[[], None]] = queue.Queue(self.QUEUE_SIZE)
        self._thread: threading.Thread | None = None
        self._starting = threading.Lock()

    def ask(self, app: Flask, address: str) -> None:
        """Send `address` its links after this request is answered. Constant time: no
        database, no mail server, whatever the address."""
        self._start()
        try:
            self._jobs.put_nowait(lambda: _send_in(app, address))
        except queue.Full:
            log.warning("lost-link queue full: an asking was dropped")

    def wait_until_idle(self, timeout: float = 10.0) -> bool:
        """Whether every asking so far has been handled within `timeout` (for tests)."""
        with self._jobs.all_tasks_done:
            return self._jobs.all_tasks_done.wait_for(
                lambda: self._jobs.unfinished_tasks == 0, timeout
            )

    def _start(self) -> None:
        with self._starting:
            # A process forked from one that had it (a preloading server) starts its own.
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="lost-links", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            job = self._jobs.get()
            try:
                job()
            except Exception:  # noqa: BLE001 - one failed asking never stops the others
                log.exception("lost links were not sent")
            finally:
                self._jobs.task_done()


def _send_in(app: Flask, address: str) -> Any:
    with app.app_context(), session_for(app) as session:
        return send_links(
            session, MailSettings.from_config(app.config), address, today_local(), now_utc()
        )


sender = LinkSender()
