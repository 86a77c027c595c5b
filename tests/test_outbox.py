"""Every message reaches the outbox first; over SMTP it is sent, and a failed send is retried."""

from __future__ import annotations

import datetime as dt
import email
import time

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from booking import notify
from booking.models import Booking
from core.database import session_for
from core.models import OutboxMessage
from core.outbox import MailSettings, UnsafeMessage, compose, deliver_pending, queue
from tests.factories import api_body, days_from_today, form_data, post_form, training_day
from tests.servers import free_port


class Inbox:
    """An SMTP server's mailbox: what really arrived over the wire."""

    def __init__(self) -> None:
        self.messages: list[email.message.Message] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 OK"


@pytest.fixture
def smtp_port(app):
    port = free_port()
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=port)
    return port


def start_smtp(port: int) -> tuple[Controller, Inbox]:
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    return controller, inbox


def stored_messages(app) -> list[OutboxMessage]:
    """The outbox as the database holds it now (a session of its own, nothing cached)."""
    with session_for(app) as fresh:
        return list(fresh.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def book(client, days_ahead: int = 60):
    start = days_from_today(days_ahead)
    response = post_form(client, "/book/expo-interieure", form_data(start=start, language="en"))
    assert response.status_code == 303
    return response


def test_without_smtp_messages_wait_in_the_outbox_as_eml_files(app, client, session):
    book(client)
    rows = session.scalars(select(OutboxMessage)).all()
    assert {row.recipient for row in rows} == {"ana@example.org", app.config["STAFF_EMAIL"]}
    assert all(row.sent_at is None for row in rows)
    files = sorted((app.config["DATA_DIR"] / "outbox").glob("*.eml"))
    union = email.message_from_bytes(files[0].read_bytes())
    assert union["Subject"].startswith("Your request AMB-")  # the union asked for English
    parts = {part.get_content_type() for part in union.walk()}
    assert "text/calendar" in parts


def test_with_smtp_the_union_and_the_staff_receive_their_messages(app, client, smtp_port):
    controller, inbox = start_smtp(smtp_port)
    try:
        book(client)
    finally:
        controller.stop()
    subjects = sorted(message["Subject"] for message in inbox.messages)
    assert subjects[0].startswith("Nouvelle demande AMB-")  # staff read French
    assert subjects[1].startswith("Your request AMB-")
    assert all(row.sent_at for row in stored_messages(app))


def test_a_failed_send_is_kept_and_sent_once_its_wait_is_over(app, client, session, smtp_port):
    started = time.monotonic()
    book(client)  # nothing listens on the SMTP port yet
    assert time.monotonic() - started < 5, "a mail server that is down must not stall a union"
    rows = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
    first, second = rows
    assert first.sent_at is None and first.attempts == 1 and first.last_error
    assert second.attempts == 0, "once the server is unreachable, the request stops trying"
    controller, inbox = start_smtp(smtp_port)
    try:
        cron = app.test_cli_runner().invoke(args=["send-outbox"])
        assert "1 message(s) sent" in cron.output  # the one that never failed
        later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=2)  # after the first wait
        assert deliver_pending(session, MailSettings.from_config(app.config), later) == 1
    finally:
        controller.stop()
    assert len(inbox.messages) == 2
    assert all(row.sent_at for row in stored_messages(app))


def test_a_message_the_server_refuses_is_not_tried_forever(app, session, smtp_port):
    refusals = []

    class Refusing(Inbox):
        async def handle_RCPT(self, server, session, envelope, address, options):  # noqa: N802
            refusals.append(address)
            return "550 no such mailbox"

    message = compose(sender="a@example.org", recipient="nobody@example.org", subject="x", body="x")
    now = dt.datetime.now(dt.UTC)
    queue(session, message, app.config["DATA_DIR"], now)
    session.commit()
    controller = Controller(Refusing(), hostname="127.0.0.1", port=smtp_port)
    controller.start()
    try:
        deliver_pending(session, MailSettings.from_config(app.config), now)
        much_later = now + dt.timedelta(days=30)
        assert deliver_pending(session, MailSettings.from_config(app.config), much_later) == 0
    finally:
        controller.stop()
    assert refusals == ["nobody@example.org"]  # asked once, never again
    [row] = stored_messages(app)
    assert row.sent_at is None and "550" in row.last_error


def test_a_message_is_never_sent_twice(app, client, session, smtp_port):
    controller, inbox = start_smtp(smtp_port)
    try:
        book(client)
        second_run = app.test_cli_runner().invoke(args=["send-outbox"])
    finally:
        controller.stop()
    assert "0 message(s) sent" in second_run.output
    assert len(inbox.messages) == 2


def test_once_sent_a_message_keeps_its_headers_but_not_its_private_link(app, client, smtp_port):
    app.config["OUTBOX_FILES"] = True  # asked for: copies while the message waits
    controller, inbox = start_smtp(smtp_port)
    try:
        book(client)
    finally:
        controller.stop()
    assert any("/bookings/" in message.as_string() for message in inbox.messages)
    for row in stored_messages(app):
        assert row.sent_at and "/bookings/" not in row.raw
        assert row.raw.startswith("Content-Type") or "Subject:" in row.raw
    assert list((app.config["DATA_DIR"] / "outbox").glob("*.eml")) == []


def test_with_smtp_no_eml_copies_are_written_unless_asked_for(app, client, smtp_port):
    book(client)  # the server is down: both messages wait in the database
    assert len(stored_messages(app)) == 2
    assert not list((app.config["DATA_DIR"] / "outbox").glob("*.eml"))


def test_a_message_that_gave_up_loses_its_body_after_the_retention(app, session, smtp_port):
    from core.outbox import MAX_ATTEMPTS, RETENTION, erase_given_up

    message = compose(sender="a@example.org", recipient="ana@example.org", subject="x", body="x")
    old = dt.datetime.now(dt.UTC) - RETENTION - dt.timedelta(days=1)
    queue(session, message, app.config["DATA_DIR"], old)
    recent = dt.datetime.now(dt.UTC)
    queue(session, message, app.config["DATA_DIR"], recent)
    for row in session.scalars(select(OutboxMessage)):
        row.attempts = MAX_ATTEMPTS
    session.commit()
    assert erase_given_up(session, app.config["DATA_DIR"], recent) == 1
    kept_bodies = [row.raw.rstrip().endswith("x") for row in stored_messages(app)]
    assert kept_bodies == [False, True]


@pytest.mark.parametrize(
    "subject",
    ["Hello\nBcc: evil@evil.example", "=?utf-8?q?X=0ABcc:_evil@evil.example?=", "A\u2028B"],
)
def test_a_header_that_would_not_come_back_as_written_is_refused(subject):
    with pytest.raises(UnsafeMessage):
        compose(sender="a@example.org", recipient="b@example.org", subject=subject, body="x")


def test_a_trainings_short_accented_messages_reach_the_server(app, client, smtp_port):
    # Short lines with accents ("—", "→", "é") once went out as 8-bit text, which the
    # sender could not encode: the request answered 500 and the notice stayed stuck.
    controller, inbox = start_smtp(smtp_port)
    start = training_day(60)
    try:
        body = api_body("formation-bd-textile", start=start, end=start, organization="CSN")
        assert client.post("/api/v1/bookings", json=body).status_code == 201
    finally:
        controller.stop()
    assert len(inbox.messages) == 2
    staff = next(m for m in inbox.messages if m["To"] == app.config["STAFF_EMAIL"])
    assert "Équipe de formation" in staff.get_payload(decode=True).decode()
    assert all(row.sent_at for row in stored_messages(app))


def test_a_message_that_cannot_be_queued_never_hides_the_hold(client, session, monkeypatch, caplog):
    def locked(*_args, **_kwargs):
        raise OperationalError("INSERT", {}, Exception("database is locked"))

    monkeypatch.setattr(notify, "queue", locked)
    response = client.post("/api/v1/bookings", json=api_body())
    assert response.status_code == 201  # the dates are held: the union is told so
    reference = response.get_json()["reference"]
    assert session.scalar(select(Booking.reference)) == reference
    assert f"messages of {reference} were not queued" in caplog.text
