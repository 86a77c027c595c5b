"""QR short links: a short random code per screen and purpose, where a scan leads (worked
out from the settings, never from the request), and the count of scans per day."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from booking.models import Booking
from core.database import begin_write, insert_or_on_conflict
from kiosk.models import PORTRAIT, QrLink, ScanCount, ScanTarget, Screen
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
    """Where scans lead, from the settings: the site's address, and the built-in targets'
    addresses by key (an empty one leaves its target out)."""

    public_url: str
    built_in_urls: Mapping[str, str]


Owner = Screen | Booking  # a screen's codes, or a venue's printed ones


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def short_url(public_url: str, code: str) -> str:
    return f"{public_url.rstrip('/')}/q/{code}"


def portrait_purpose(portrait: Portrait) -> str:
    return f"{PORTRAIT}:{portrait.id}"


def address_of(target: ScanTarget, destinations: Destinations) -> str:
    """A target's address: its own, or the setting of a built-in one ("" when unset)."""
    return target.url or destinations.built_in_urls.get(target.key, "")


def links_of(
    session: Session,
    owner: Owner,
    targets: Sequence[ScanTarget],
    portraits: Sequence[Portrait],
    now: dt.datetime,
) -> dict[str, QrLink]:
    """The owner's links by purpose (a target's key, or portrait_purpose), made the first
    time they are needed. Making one is idempotent (one per owner and purpose, by a unique
    constraint), so two processes asking at once end up with the same code."""
    wanted: dict[str, tuple[str, Portrait | None]] = {
        target.key: (target.key, None) for target in targets
    }
    for portrait in portraits:
        wanted[portrait_purpose(portrait)] = (PORTRAIT, portrait)
    links = _existing(session, owner)
    missing = [purpose for purpose in wanted if purpose not in links]
    if missing:
        begin_write(session)
        links = _existing(session, owner)
        for purpose in missing:
            if purpose in links:
                continue
            target, portrait = wanted[purpose]
            links[purpose] = _add(session, owner, target, portrait, purpose, now)
        session.commit()
    return links


def _owned_by(owner: Owner):  # type: ignore[no-untyped-def]
    if isinstance(owner, Screen):
        return QrLink.screen_id == owner.id
    return QrLink.booking_id == owner.id


def _existing(session: Session, owner: Owner) -> dict[str, QrLink]:
    return {link.purpose: link for link in session.scalars(select(QrLink).where(_owned_by(owner)))}


def _add(session, owner, target, portrait, purpose, now) -> QrLink:  # type: ignore[no-untyped-def]
    draws = 0
    while True:
        link = QrLink(
            code=new_code(),
            screen_id=owner.id if isinstance(owner, Screen) else None,
            booking_id=owner.id if isinstance(owner, Booking) else None,
            target=target,
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
                select(QrLink).where(_owned_by(owner), QrLink.purpose == purpose)
            )
            if theirs is not None:
                return theirs
            draws += 1
            if draws == CODE_DRAWS:  # not bad luck: the screen is gone, say
                raise


def live_link(session: Session, code: str, today: dt.date) -> QrLink:
    """The link a scanned code stands for, if it still leads somewhere: not retired, its
    owner still there, its portrait still shown or its target still offered."""
    if len(code) != CODE_LENGTH:  # nothing else was ever drawn: no need to ask the database
        raise LinkNotFound(code)
    link = session.scalar(select(QrLink).where(QrLink.code == code.lower()))
    if link is None or link.retired_at is not None:
        raise LinkNotFound(code)
    if link.screen_id is None and link.booking_id is None:
        raise LinkNotFound(code)
    if link.target == PORTRAIT:
        if link.portrait is None or not link.portrait.is_public(today):
            raise LinkNotFound(code)
    elif target_of(link) is None:
        raise LinkNotFound(code)
    return link


def target_of(link: QrLink) -> ScanTarget | None:
    """The offered target a link leads to (None for a portrait's, or a retired target)."""
    target = link.scan_target
    return target if target is not None and target.active else None


def campaign_of(link: QrLink) -> str:
    """What the centre's statistics file the scan under: the venue's booking reference,
    or the screen's address when it serves none."""
    booking = link.booking or (link.screen.booking if link.screen else None)
    if booking is not None:
        return booking.reference
    return link.screen.slug if link.screen else ""


def destination(link: QrLink, destinations: Destinations) -> str:
    """Where a scan of this link goes, with the campaign parameters merged into the query
    the destination already has (ours replace any of the same name)."""
    campaign = {"utm_source": "ambulante", "utm_medium": "qr", "utm_campaign": campaign_of(link)}
    if link.target == PORTRAIT:
        assert link.portrait is not None  # live_link refuses it otherwise
        base = destinations.public_url.rstrip("/") + portrait_page_url(link.portrait.slug)
        campaign["utm_content"] = link.portrait.slug
        if link.screen is not None:
            campaign["lang"] = link.screen.language_order[0]
            campaign["screen"] = link.screen.slug
        elif link.booking is not None:
            campaign["venue"] = link.booking.reference
        return with_query(base, campaign)
    target = target_of(link)
    base = address_of(target, destinations) if target is not None else ""
    if not base:
        raise LinkNotFound(link.code)  # a target whose address was unset since
    return with_query(base, campaign)


def with_query(url: str, added: dict[str, str]) -> str:
    parts = urlsplit(url)
    kept = [(name, value) for name, value in parse_qsl(parts.query) if name not in added]
    return urlunsplit(parts._replace(query=urlencode(kept + list(added.items()))))


def count_scan(session: Session, link_id: int, day: dt.date) -> None:
    """One more scan of a link on a day, committed. Nothing about who scanned is written."""
    begin_write(session)
    add_to_counts(session, {(link_id, day): 1})
    session.commit()


def add_to_counts(session: Session, scans: Mapping[tuple[int, dt.date], int]) -> None:
    """Scans added to the counts of their links and days, as one atomic statement (exact
    under any number of simultaneous scans), in the caller's transaction."""
    statement = insert_or_on_conflict(session, ScanCount)
    statement = statement.on_conflict_do_update(
        index_elements=[ScanCount.link_id, ScanCount.day],
        set_={"scans": ScanCount.scans + statement.excluded.scans},
    )
    rows = [{"link_id": link, "day": day, "scans": n} for (link, day), n in scans.items()]
    session.execute(statement, rows)
