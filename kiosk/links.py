"""QR short links: a short random code per screen and purpose, where a scan leads (worked
out from the settings, never from the request), and the count of scans per day."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.database import begin_write
from kiosk.models import QrLink, ScanCount, Screen, Target
from media.models import Portrait
from media.public import portrait_page_url

# No 0/o, 1/l/i: a code read aloud or typed from a poster is not mistaken.
CODE_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"
CODE_LENGTH = 7  # 31**7: about 27 billion codes
CODE_DRAWS = 5  # a taken code drawn five times running is not bad luck: something is wrong


class LinkNotFound(Exception):
    """No such code, a retired one, or one whose portrait may no longer be shown."""


@dataclass(frozen=True)
class Destinations:
    """Where scans lead, from the settings."""

    public_url: str
    donate_url: str
    signup_url: str


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def short_url(public_url: str, code: str) -> str:
    return f"{public_url.rstrip('/')}/q/{code}"


def purpose_of(target: Target, portrait: Portrait | None = None) -> str:
    return f"{target.value}:{portrait.id}" if portrait is not None else target.value


def links_of_screen(
    session: Session, screen: Screen, portraits: Sequence[Portrait], now: dt.datetime
) -> dict[str, QrLink]:
    """The screen's links by purpose, made the first time they are needed. Making one is
    idempotent (one per screen and purpose, by a unique constraint), so two processes
    asking at once end up with the same code."""
    wanted = {purpose_of(Target.DONATE): (Target.DONATE, None)}
    wanted[purpose_of(Target.SIGNUP)] = (Target.SIGNUP, None)
    for portrait in portraits:
        wanted[purpose_of(Target.PORTRAIT, portrait)] = (Target.PORTRAIT, portrait)
    links = _existing(session, screen)
    missing = [purpose for purpose in wanted if purpose not in links]
    if missing:
        begin_write(session)
        links = _existing(session, screen)
        for purpose in missing:
            if purpose in links:
                continue
            target, portrait = wanted[purpose]
            links[purpose] = _add(session, screen, target, portrait, purpose, now)
        session.commit()
    return links


def _existing(session: Session, screen: Screen) -> dict[str, QrLink]:
    return {
        link.purpose: link
        for link in session.scalars(select(QrLink).where(QrLink.screen_id == screen.id))
    }


def _add(session, screen, target, portrait, purpose, now) -> QrLink:  # type: ignore[no-untyped-def]
    draws = 0
    while True:
        link = QrLink(
            code=new_code(),
            screen_id=screen.id,
            target=target.value,
            portrait_id=portrait.id if portrait is not None else None,
            purpose=purpose,
            created_at=now,
        )
        try:
            with session.begin_nested():
                session.add(link)
            return link
        except IntegrityError:
            # Another process made this link first (on PostgreSQL the insert waited for its
            # commit): take theirs. Otherwise the same code was drawn twice: draw again.
            theirs = session.scalar(
                select(QrLink).where(QrLink.screen_id == screen.id, QrLink.purpose == purpose)
            )
            if theirs is not None:
                return theirs
            draws += 1
            if draws == CODE_DRAWS:  # not bad luck: the screen is gone, say
                raise


def live_link(session: Session, code: str, today: dt.date) -> QrLink:
    """The link a scanned code stands for, if it still leads somewhere."""
    if len(code) != CODE_LENGTH:  # nothing else was ever drawn: no need to ask the database
        raise LinkNotFound(code)
    link = session.scalar(select(QrLink).where(QrLink.code == code.lower()))
    if link is None or link.retired_at is not None or link.screen is None:
        raise LinkNotFound(code)
    if link.target == Target.PORTRAIT and (
        link.portrait is None or not link.portrait.is_public(today)
    ):
        raise LinkNotFound(code)
    return link


def destination(link: QrLink, destinations: Destinations) -> str:
    """Where a scan of this link goes, with the campaign parameters merged into the query
    the destination already has (ours replace any of the same name)."""
    screen = link.screen
    assert screen is not None  # live_link refuses links without a screen
    if link.target == Target.DONATE:
        base = destinations.donate_url
    elif link.target == Target.SIGNUP:
        base = destinations.signup_url
    else:
        assert link.portrait is not None
        base = destinations.public_url.rstrip("/") + portrait_page_url(link.portrait.slug)
    campaign = {
        "utm_source": "ambulante",
        "utm_medium": "qr",
        "utm_campaign": screen.booking.reference if screen.booking else screen.slug,
    }
    if link.target == Target.PORTRAIT:
        assert link.portrait is not None
        campaign["utm_content"] = link.portrait.slug
        campaign["lang"] = screen.language_order[0]
        campaign["screen"] = screen.slug
    return with_query(base, campaign)


def with_query(url: str, added: dict[str, str]) -> str:
    parts = urlsplit(url)
    kept = [(name, value) for name, value in parse_qsl(parts.query) if name not in added]
    return urlunsplit(parts._replace(query=urlencode(kept + list(added.items()))))


def count_scan(session: Session, link_id: int, day: dt.date) -> None:
    """One more scan of a link on a day, as one atomic statement (exact under any number of
    simultaneous scans). Nothing about who scanned is written."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(ScanCount).values(link_id=link_id, day=day, scans=1)
    statement = statement.on_conflict_do_update(
        index_elements=[ScanCount.link_id, ScanCount.day],
        set_={"scans": ScanCount.scans + 1},
    )
    begin_write(session)
    session.execute(statement)
    session.commit()
