"""Every message reaches the outbox first; over SMTP it is sent, and a failed send is retried."""

from __future__ import annotations

import email
import socket

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from core.models import OutboxMessage
from tests.conftest import days_from_today, form_data, post_form


class Inbox:
    """An SMTP server's mailbox: what really arrived over the wire."""

    def __init__(self) -> None:
        self.messages: list[email.message.Message] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


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


def test_with_smtp_the_union_and_the_staff_receive_their_messages(client, session, smtp_port):
    controller, inbox = start_smtp(smtp_port)
    try:
        book(client)
    finally:
        controller.stop()
    subjects = sorted(message["Subject"] for message in inbox.messages)
    assert subjects[0].startswith("Nouvelle demande AMB-")  # staff read French
    assert subjects[1].startswith("Your request AMB-")
    assert all(row.sent_at for row in session.scalars(select(OutboxMessage)))


def test_a_failed_send_is_kept_and_sent_by_the_next_delivery(app, client, session, smtp_port):
    book(client)  # nothing listens on the SMTP port yet
    pending = session.scalars(select(OutboxMessage)).all()
    assert len(pending) == 2
    assert all(row.sent_at is None and row.attempts == 1 and row.last_error for row in pending)
    controller, inbox = start_smtp(smtp_port)
    try:
        result = app.test_cli_runner().invoke(args=["send-outbox"])
    finally:
        controller.stop()
    assert "2 message(s) sent" in result.output
    assert len(inbox.messages) == 2
    session.rollback()  # end the test's read snapshot to see the delivery's commits
    assert all(row.sent_at for row in session.scalars(select(OutboxMessage)))


def test_a_message_is_never_sent_twice(app, client, session, smtp_port):
    controller, inbox = start_smtp(smtp_port)
    try:
        book(client)
        second_run = app.test_cli_runner().invoke(args=["send-outbox"])
    finally:
        controller.stop()
    assert "0 message(s) sent" in second_run.output
    assert len(inbox.messages) == 2
