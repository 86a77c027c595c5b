"""What staff do from a shell: the same rules and messages as the web, with no request at all."""

from __future__ import annotations

import email
from email import policy

import pytest
from icalendar import Calendar
from sqlalchemy import select

from core.database import session_for
from core.models import OutboxMessage
from tests.factories import hold

PUBLIC_URL = "https://ambulante.example.org"


@pytest.fixture
def app_config():
    return {"PUBLIC_URL": PUBLIC_URL}


def messages_to(session, address: str) -> list[email.message.EmailMessage]:
    rows = session.scalars(
        select(OutboxMessage.raw)
        .where(OutboxMessage.recipient == address)
        .order_by(OutboxMessage.id)
    )
    return [email.message_from_string(raw, policy=policy.default) for raw in rows]


def test_staff_send_a_union_a_new_private_link_from_the_shell(runner, session, client):
    held = hold(session)
    reference = held.booking.reference

    result = runner.invoke(args=["booking", "send-link", reference])

    assert result.exit_code == 0, result.output
    assert f"sent to {held.booking.email}" in result.output
    [message] = messages_to(session, held.booking.email)
    assert reference in message["Subject"]
    body = message.get_body(("plain",)).get_content()
    [link] = [line for line in body.splitlines() if line.startswith(f"{PUBLIC_URL}/bookings/")]
    new_path = link.removeprefix(PUBLIC_URL)
    assert client.get(new_path).status_code == 200
    assert client.get(f"/bookings/{held.manage_token}").status_code == 404  # the old link
    [invite] = [part for part in message.iter_attachments() if part.get_filename()]
    [event] = Calendar.from_ical(invite.get_content()).walk("VEVENT")
    assert str(event["url"]) == link


def test_without_a_public_address_the_command_refuses_and_changes_nothing(fresh_app):
    app = fresh_app()  # no AMBULANTE_PUBLIC_URL
    with session_for(app) as session:
        held = hold(session)
        result = app.test_cli_runner().invoke(args=["booking", "send-link", held.booking.reference])
        assert result.exit_code != 0
        assert "AMBULANTE_PUBLIC_URL" in result.output
        assert messages_to(session, held.booking.email) == []
    assert app.test_client().get(f"/bookings/{held.manage_token}").status_code == 200


def test_an_unknown_reference_is_named_in_the_refusal(runner):
    result = runner.invoke(args=["booking", "send-link", "AMB-1999-0001"])
    assert result.exit_code != 0
    assert "No booking has the reference AMB-1999-0001" in result.output
