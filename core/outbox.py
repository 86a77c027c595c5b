"""The mail outbox: every message is stored (a row and an .eml file) before any attempt to send it.

Messages are sent over SMTP when AMBULANTE_SMTP_HOST is set. A send that fails stays in
the outbox with its error and is tried again by the next delivery run, so none is lost.
A row is claimed before it is sent, so several processes never send the same message."""

from __future__ import annotations

import datetime as dt
import smtplib
from collections.abc import Sequence
from email import message_from_string, policy
from email.message import EmailMessage
from email.utils import make_msgid, parseaddr
from pathlib import Path
from typing import Any

import click
from sqlalchemy import event, or_, select, update
from sqlalchemy.orm import Session

from core.database import session_for
from core.models import OutboxMessage

CLAIM_SECONDS = 120
SMTP_TIMEOUT_SECONDS = 10
MAX_ATTEMPTS_PER_RUN = 50


def compose(
    *,
    sender: str,
    recipient: str,
    subject: str,
    body: str,
    attachments: Sequence[tuple[str, str, bytes]] = (),
) -> EmailMessage:
    """A plain-text message; each attachment is (file name, MIME type, content)."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = recipient
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain="ambulante")
    message.set_content(body)
    for filename, mime_type, content in attachments:
        maintype, subtype = mime_type.split("/", 1)
        message.add_attachment(content, maintype=maintype, subtype=subtype, filename=filename)
    return message


def queue(session: Session, message: EmailMessage, data_dir: Path, now: dt.datetime) -> None:
    """Store the message in the outbox, in the caller's transaction; its .eml copy is
    written once that transaction commits, so a rolled-back request leaves no file."""
    row = OutboxMessage(
        recipient=message["To"],
        subject=message["Subject"],
        raw=message.as_string(),
        created_at=now,
        attempts=0,
    )
    session.add(row)
    session.flush()
    name = f"{row.id:06d}-{now:%Y%m%dT%H%M%S}.eml"
    session.info.setdefault(_UNWRITTEN, []).append((data_dir / "outbox" / name, row.raw))


_UNWRITTEN = "outbox_files_to_write"


@event.listens_for(Session, "after_commit")
def _write_eml_copies(session: Session) -> None:
    for path, raw in session.info.pop(_UNWRITTEN, []):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(raw)


@event.listens_for(Session, "after_rollback")
def _forget_eml_copies(session: Session) -> None:
    session.info.pop(_UNWRITTEN, None)


def smtp_settings(config: Any) -> dict[str, Any] | None:
    if not config.get("SMTP_HOST"):
        return None
    return {
        "host": config["SMTP_HOST"],
        "port": config["SMTP_PORT"],
        "username": config.get("SMTP_USERNAME"),
        "password": config.get("SMTP_PASSWORD"),
        "starttls": config.get("SMTP_STARTTLS", False),
    }


def deliver_pending(session: Session, smtp: dict[str, Any] | None, now: dt.datetime) -> int:
    """Send what is waiting; returns how many were sent. Without SMTP, nothing leaves."""
    if smtp is None:
        return 0
    sent = 0
    pending = session.scalars(
        select(OutboxMessage.id)
        .where(
            OutboxMessage.sent_at.is_(None),
            or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now),
        )
        .order_by(OutboxMessage.id)
        .limit(MAX_ATTEMPTS_PER_RUN)
    ).all()
    session.commit()
    for message_id in pending:
        if not _claim(session, message_id, now):
            continue
        row = session.get(OutboxMessage, message_id)
        assert row is not None
        row.attempts += 1
        try:
            _send(smtp, row)
        except (OSError, smtplib.SMTPException) as error:
            row.last_error = f"{type(error).__name__}: {error}"[:2000]
            row.claimed_until = None
        else:
            row.sent_at = now
            row.last_error = None
            sent += 1
        session.commit()
    return sent


def _claim(session: Session, message_id: int, now: dt.datetime) -> bool:
    result = session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id == message_id,
            OutboxMessage.sent_at.is_(None),
            or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now),
        )
        .values(claimed_until=now + dt.timedelta(seconds=CLAIM_SECONDS))
    )
    session.commit()
    return result.rowcount == 1


def _send(smtp: dict[str, Any], row: OutboxMessage) -> None:
    with smtplib.SMTP(smtp["host"], smtp["port"], timeout=SMTP_TIMEOUT_SECONDS) as client:
        if smtp["starttls"]:
            client.starttls()
        if smtp["username"]:
            client.login(smtp["username"], smtp["password"] or "")
        message = message_from_string(row.raw, policy=policy.SMTP)
        client.send_message(message, parseaddr(message["From"])[1], [row.recipient])


def register_command(app: Any) -> None:
    """`flask --app core.app:create_app send-outbox`: retry what is waiting (run it from cron)."""

    @app.cli.command("send-outbox")
    def send_outbox() -> None:
        with session_for(app) as session:
            sent = deliver_pending(session, smtp_settings(app.config), dt.datetime.now(dt.UTC))
        click.echo(f"{sent} message(s) sent")
