"""The mail outbox: every message is stored (a row, and an .eml copy unless SMTP sends it) before
any attempt to send it.

Messages are sent over SMTP when AMBULANTE_SMTP_HOST is set: a request sends what it
queued, and `send-outbox` (run from cron) sends whatever is still due. A send that fails
stays in the outbox with its error and is tried again later, so none is lost.
A row is claimed before it is sent, so several processes never send the same message.
A message's body (private links in it) is erased once the mail server has taken it, and
that of a message that gave up after RETENTION; only its headers stay, as a record."""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
import smtplib
from collections.abc import Sequence
from dataclasses import dataclass
from email import message_from_string, policy
from email.message import EmailMessage
from email.parser import HeaderParser
from email.utils import make_msgid, parseaddr
from pathlib import Path
from typing import Any

import click
from sqlalchemy import and_, event, or_, select, update
from sqlalchemy.orm import Session

from core.clock import now_utc
from core.data_dir import PRIVATE_DIR_MODE, PRIVATE_FILE_MODE
from core.database import session_for
from core.header_text import breaks_a_header_line
from core.models import OutboxMessage

log = logging.getLogger(__name__)
CLAIM_SECONDS = 120
SMTP_TIMEOUT_SECONDS = 10
MAX_MESSAGES_PER_RUN = 50
MAX_ATTEMPTS = 10  # with the waits below, about two days of trying
LONGEST_WAIT = dt.timedelta(hours=12)
RETENTION = dt.timedelta(days=30)  # how long the body of a message that gave up is kept
# The headers compose() writes, and nothing else: union-typed text never adds one.
HEADERS_WRITTEN = {"from", "to", "subject", "message-id", "content-type", "mime-version"}
SINGLE_PART_HEADERS = {"content-transfer-encoding"}
# An address alone, as the booking schema keeps it (no display name, no list, no comment):
# the only thing a Reply-To may hold, so no typed name ever reaches a header.
PLAIN_ADDRESS = re.compile(r"[^\s@<>,;:\"()\[\]\\]+@[^\s@<>,;:\"()\[\]\\]+")
# Text parts of attachments are written as UTF-8 and say so: a calendar file without a
# charset has its accents garbled by some mail programs.
TEXT_CHARSET = "utf-8"


class UnsafeMessage(ValueError):
    """A header value that would not come back as written (a line break, an encoded word)."""


def _check_header_value(value: str) -> None:
    if "=?" in value or breaks_a_header_line(value):  # "=?": an encoded word
        raise UnsafeMessage(f"refused header value {value!r}")


def is_plain_address(value: str) -> bool:
    """An email address alone (name@example.org), safe to stand in a header by itself."""
    return (
        value.isascii()
        and "=?" not in value
        and not breaks_a_header_line(value)
        and PLAIN_ADDRESS.fullmatch(value) is not None
    )


@dataclass(frozen=True)
class Composed:
    """A message written out once, as it will be stored and sent."""

    recipient: str
    subject: str
    raw: str


def compose(
    *,
    sender: str,
    recipient: str,
    subject: str,
    body: str,
    attachments: Sequence[tuple[str, str, bytes]] = (),
    reply_to: str | None = None,
) -> Composed:
    """A plain-text message; each attachment is (file name, MIME type, content), a text
    one in UTF-8. `reply_to`: an address alone (is_plain_address), where answers go.

    Refuses (UnsafeMessage) a header value that a mail program could read as more than
    one header, and checks the message parses back with exactly the headers written: a
    Python whose email package decodes encoded words into new lines (CVE-2024-6923) can
    not be made to forge a Bcc or a Reply-To."""
    for value in (sender, recipient, subject):
        _check_header_value(value)
    if reply_to is not None and not is_plain_address(reply_to):
        raise UnsafeMessage(f"refused Reply-To {reply_to!r}")
    message = EmailMessage()
    message["From"] = sender
    message["To"] = recipient
    if reply_to is not None:
        message["Reply-To"] = reply_to
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain="ambulante")
    # Quoted-printable: the message is 7-bit ASCII as stored, so every SMTP server takes
    # it as it is (an 8-bit body would need the server's 8BITMIME, and fails on send).
    message.set_content(body, cte="quoted-printable")
    for filename, mime_type, content in attachments:
        maintype, subtype = mime_type.split("/", 1)
        params = {"charset": TEXT_CHARSET} if maintype == "text" else {}
        message.add_attachment(
            content, maintype=maintype, subtype=subtype, filename=filename, params=params
        )
    # Written as bytes (all 7-bit by now): the text generator copies the whole message
    # over again to write the same, four times slower.
    raw = message.as_bytes().decode("ascii")
    _check_parses_back(raw, message.is_multipart(), recipient, subject, reply_to)
    return Composed(recipient, subject, raw)


def _check_parses_back(
    raw: str, multipart: bool, recipient: str, subject: str, reply_to: str | None
) -> None:
    """The top-level headers read back from the text that will be stored and sent."""
    try:
        parsed = HeaderParser(policy=policy.default).parsestr(raw)
        names = [name.lower() for name in parsed.keys()]
        # A long value may be folded onto the next line whole: unfolded, it starts with a space.
        came_back = (parsed["To"].strip(), parsed["Subject"].strip())
        replies_to = parsed["Reply-To"]
    except (ValueError, IndexError) as error:
        raise UnsafeMessage(f"the headers do not parse back: {error}") from error
    allowed = HEADERS_WRITTEN | (set() if multipart else SINGLE_PART_HEADERS)
    if reply_to is not None:
        allowed = allowed | {"reply-to"}
    if len(names) != len(set(names)) or not set(names) <= allowed:
        raise UnsafeMessage(f"headers came back as {names}")
    if came_back != (recipient.strip(), subject.strip()):
        raise UnsafeMessage("To or Subject came back changed")
    if (replies_to.strip() if replies_to is not None else None) != reply_to:
        raise UnsafeMessage("Reply-To came back changed")


def queue(session: Session, message: Composed, data_dir: Path | None, now: dt.datetime) -> int:
    """Store the message in the outbox, in the caller's transaction; its .eml copy (when
    `data_dir` is given) is written once that transaction commits, so a rolled-back
    request leaves no file."""
    row = OutboxMessage(
        recipient=message.recipient,
        subject=message.subject,
        raw=message.raw,
        created_at=now,
        attempts=0,
    )
    session.add(row)
    session.flush()
    if data_dir is not None:
        session.info.setdefault(_UNWRITTEN, []).append((eml_path(data_dir, row), row.raw))
    return row.id


def eml_path(data_dir: Path, row: OutboxMessage) -> Path:
    return data_dir / "outbox" / f"{row.id:06d}.eml"


def _write_private(path: Path, text: str) -> None:
    path.parent.mkdir(mode=PRIVATE_DIR_MODE, parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE_MODE)
    with os.fdopen(descriptor, "w") as file:
        file.write(text)


_UNWRITTEN = "outbox_files_to_write"


@event.listens_for(Session, "after_commit")
def _write_eml_copies(session: Session) -> None:
    """The row is the record; a copy that cannot be written is logged, never an error
    for the person whose request was just committed."""
    for path, raw in session.info.pop(_UNWRITTEN, []):
        try:
            _write_private(path, raw)
        except OSError:
            log.exception("could not write the outbox copy %s", path)


@event.listens_for(Session, "after_rollback")
def _forget_eml_copies(session: Session) -> None:
    session.info.pop(_UNWRITTEN, None)


@dataclass(frozen=True)
class MailSettings:
    """What writing and sending a message needs, taken from the config once, so that
    rules, commands and cron jobs send mail without a request."""

    sender: str
    staff_address: str
    public_url: str  # the base of every link a message carries
    data_dir: Path
    smtp: dict[str, Any] | None
    eml_copies: bool  # an .eml file per message in the data dir's outbox folder

    @classmethod
    def from_config(cls, config: Any) -> MailSettings:
        smtp = smtp_settings(config)
        wanted = config.get("OUTBOX_FILES")
        return cls(
            sender=config["MAIL_FROM"],
            staff_address=config["STAFF_EMAIL"],
            public_url=config["PUBLIC_URL"],
            data_dir=Path(config["DATA_DIR"]),
            smtp=smtp,
            # Without SMTP the files are where messages can be read; with it, only on demand.
            eml_copies=smtp is None if wanted is None else wanted,
        )

    @property
    def eml_dir(self) -> Path | None:
        return self.data_dir if self.eml_copies else None


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


def deliver_pending(
    session: Session,
    mail: MailSettings,
    now: dt.datetime,
    only: Sequence[int] | None = None,
) -> int:
    """Send what is due (or only the messages `only` names); returns how many were sent.

    Without SMTP nothing leaves. A temporary failure waits longer before each new attempt;
    a refusal by the server (5xx), or too many attempts, ends the tries, the error kept.
    When the server cannot be reached at all, the run stops rather than wait on it again."""
    smtp = mail.smtp
    if smtp is None:
        return 0
    due = select(OutboxMessage.id).where(_is_due(now)).order_by(OutboxMessage.id)
    if only is not None:
        due = due.where(OutboxMessage.id.in_(only))
    pending = session.scalars(due.limit(MAX_MESSAGES_PER_RUN)).all()
    session.commit()
    sent = 0
    for message_id in pending:
        if not _claim(session, message_id, now):
            continue
        row = session.get(OutboxMessage, message_id, populate_existing=True)
        assert row is not None
        row.attempts += 1
        try:
            _send(smtp, row)
        except (OSError, smtplib.SMTPException, UnicodeError) as error:
            row.last_error = f"{type(error).__name__}: {error}"[:2000]
            if _is_refusal(error):
                row.attempts = MAX_ATTEMPTS
            row.next_attempt_at = now + _backoff(row.attempts)
            session.commit()
            if _is_unreachable(error):
                break
            continue
        row.sent_at = now
        row.last_error = None
        _erase_body(row, mail.data_dir)
        session.commit()
        sent += 1
    return sent


def _erase_body(row: OutboxMessage, data_dir: Path) -> None:
    """Keep the headers as a record of what went where; the body and its copy go."""
    row.raw = row.raw.split("\n\n", 1)[0] + "\n"
    eml_path(data_dir, row).unlink(missing_ok=True)


def erase_given_up(session: Session, data_dir: Path, now: dt.datetime) -> int:
    """Bodies of messages that stopped trying more than RETENTION ago; returns how many."""
    rows = session.scalars(
        select(OutboxMessage).where(
            OutboxMessage.sent_at.is_(None),
            OutboxMessage.attempts >= MAX_ATTEMPTS,
            OutboxMessage.created_at < now - RETENTION,
            OutboxMessage.raw.contains("\n\n"),
        )
    ).all()
    for row in rows:
        _erase_body(row, data_dir)
    session.commit()
    return len(rows)


def _is_due(now: dt.datetime):  # type: ignore[no-untyped-def]
    return and_(
        OutboxMessage.sent_at.is_(None),
        OutboxMessage.attempts < MAX_ATTEMPTS,
        or_(OutboxMessage.next_attempt_at.is_(None), OutboxMessage.next_attempt_at <= now),
    )


def _backoff(attempts: int) -> dt.timedelta:
    return min(dt.timedelta(minutes=2 ** (attempts - 1)), LONGEST_WAIT)


def _is_refusal(error: Exception) -> bool:
    if isinstance(error, UnicodeError):  # a message no server can take as it is
        return True
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return True
    return isinstance(error, smtplib.SMTPResponseException) and error.smtp_code >= 500


def _is_unreachable(error: Exception) -> bool:
    return isinstance(error, (OSError, smtplib.SMTPConnectError, smtplib.SMTPServerDisconnected))


def _claim(session: Session, message_id: int, now: dt.datetime) -> bool:
    """Take the message for this run only; another process sees it as not due."""
    result = session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, _is_due(now))
        .values(next_attempt_at=now + dt.timedelta(seconds=CLAIM_SECONDS))
        .execution_options(synchronize_session=False)  # the row is read afresh next
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
    """`flask --app run send-outbox`: retry what is waiting (run it from cron)."""

    @app.cli.command("send-outbox")
    def send_outbox() -> None:
        """Send what is due in the outbox (run it from cron every few minutes)."""
        mail = MailSettings.from_config(app.config)
        now = now_utc()
        with session_for(app) as session:
            sent = deliver_pending(session, mail, now)
            erased = erase_given_up(session, mail.data_dir, now)
        click.echo(f"{sent} message(s) sent; {erased} old unsent message(s) erased")
