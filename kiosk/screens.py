"""The screens staff set up: what each plays (which portraits, in which caption languages,
how long each stays) and which venue it serves; the default screen /kiosk/ plays."""

from __future__ import annotations

import datetime as dt
import re
import secrets
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from booking.models import Booking
from core.database import begin_write
from core.header_text import breaks_a_header_line
from core.staff import audit
from core.staff.models import AuditEvent
from core.web import LARGEST_ID
from kiosk.links import Destinations, links_of
from kiosk.models import (
    DEFAULT_SECONDS_PER_SLIDE,
    SECONDS_PER_SLIDE,
    QrLink,
    ScanTarget,
    Screen,
    ScreenPortrait,
    ScreenTarget,
)
from kiosk.targets import offered
from media.models import LANGUAGES, Portrait
from media.portraits import public_portraits

SUBJECT = "screen"
NAME_MAX_LENGTH = Screen.__table__.c.name.type.length
SLUG_MAX_LENGTH = 40  # made from a name; the column holds a suffix more
# Every address a screen can have: anything else names none, and never reaches a query
# (PostgreSQL refuses a NUL in text).
SLUG = re.compile(rf"[a-z0-9-]{{1,{Screen.__table__.c.slug.type.length}}}")

ACTION_LABELS = {
    "screen created": _l("screen created"),
    "screen changed": _l("screen changed"),
    "screen deleted": _l("screen deleted"),
}


class ScreenNotFound(Exception):
    pass


class InvalidScreen(Exception):
    """What is wrong, by field of the screen form."""

    def __init__(self, errors: Mapping[str, Any]) -> None:
        super().__init__(", ".join(errors))
        self.errors = dict(errors)


@dataclass(frozen=True)
class ScreenSettings:
    """What staff choose for a screen. `portrait_ids` None: every published portrait (now
    and to come); `target_ids` None: the codes of every target there is now."""

    name: str
    languages: tuple[str, ...] = LANGUAGES
    languages_together: bool = False
    seconds_per_slide: int = DEFAULT_SECONDS_PER_SLIDE
    booking_id: int | None = None
    portrait_ids: tuple[int, ...] | None = None
    target_ids: tuple[int, ...] | None = None  # None: every target there is


def all_screens(session: Session) -> list[Screen]:
    return list(
        session.scalars(
            select(Screen)
            .options(selectinload(Screen.booking))
            .order_by(Screen.is_default.desc(), Screen.name, Screen.id)
        )
    )


def screen_by_slug(session: Session, slug: str) -> Screen:
    screen = session.scalar(select(Screen).where(Screen.slug == slug))
    if screen is None:
        raise ScreenNotFound(slug)
    return screen


def screen_by_id(session: Session, screen_id: int) -> Screen:
    screen = session.get(Screen, screen_id)
    if screen is None:
        raise ScreenNotFound(screen_id)
    return screen


def default_screen(session: Session) -> Screen:
    screen = session.scalar(select(Screen).where(Screen.is_default.is_(True)).limit(1))
    if screen is None:
        raise ScreenNotFound("default")
    return screen


def targets_on(screen: Screen, destinations: Destinations) -> list[ScanTarget]:
    """The codes the screen shows, in its order: of the targets it chose, those offered."""
    return offered([shown.target for shown in screen.shown_targets], destinations)


def links_of_screen(
    session: Session, screen: Screen, portraits: Sequence[Portrait], now: dt.datetime
) -> dict[str, QrLink]:
    """The screen's links: one per target it chose (offered now or not: its code is ready
    when an address is set) and one per portrait given."""
    targets = [shown.target for shown in screen.shown_targets]
    return links_of(session, screen, targets, portraits, now)


def portraits_on(session: Session, screen: Screen, today: dt.date) -> list[Portrait]:
    """What the screen plays today, in order: consent and publication are checked here,
    so a portrait that may no longer be shown leaves the screen at its next refresh."""
    shown = public_portraits(session, today)
    if screen.all_portraits:
        return shown
    by_id = {portrait.id: portrait for portrait in shown}
    return [by_id[chosen.portrait_id] for chosen in screen.chosen if chosen.portrait_id in by_id]


def create_screen(
    session: Session, settings: ScreenSettings, actor: str, now: dt.datetime
) -> Screen:
    _check(session, settings)
    begin_write(session)
    slug = _free_slug(session, settings.name)
    while True:
        screen = Screen(slug=slug, created_at=now, is_default=False)
        _apply(session, screen, settings)
        try:
            with session.begin_nested():
                session.add(screen)
        except IntegrityError:  # another process took the address a moment ago
            slug = _free_slug(session, settings.name, suffixed=True)
            continue
        break
    _record(session, screen, actor, "screen created", {}, _facts(screen), now)
    return screen


def update_screen(
    session: Session, screen_id: int, settings: ScreenSettings, actor: str, now: dt.datetime
) -> Screen:
    _check(session, settings)
    begin_write(session)
    screen = screen_by_id(session, screen_id)
    before = _facts(screen)
    _apply(session, screen, settings)
    session.flush()
    changed_before, changed_after = audit.changed(before, _facts(screen))
    if changed_after:
        _record(session, screen, actor, "screen changed", changed_before, changed_after, now)
    return screen


def delete_screen(session: Session, screen_id: int, actor: str, now: dt.datetime) -> None:
    """The default screen stays (/kiosk/ plays it). The screen's codes are retired, not
    deleted: a printed code then says it has ended, and its counts stay for the reports."""
    begin_write(session)
    screen = screen_by_id(session, screen_id)
    if screen.is_default:
        raise InvalidScreen({"name": _l("The default screen cannot be deleted.")})
    session.execute(
        update(QrLink)
        .where(QrLink.screen_id == screen.id, QrLink.retired_at.is_(None))
        .values(retired_at=now)
    )
    _record(session, screen, actor, "screen deleted", _facts(screen), {}, now)
    session.delete(screen)
    session.flush()


def _check(session: Session, settings: ScreenSettings) -> None:
    errors: dict[str, Any] = {}
    name = settings.name.strip()
    if not name:
        errors["name"] = _l("Give the screen a name.")
    elif len(name) > NAME_MAX_LENGTH or breaks_a_header_line(name):
        errors["name"] = _l("A name is one line of at most %(n)s characters.", n=NAME_MAX_LENGTH)
    languages = settings.languages
    if not languages:
        errors["languages"] = _l("Choose at least one caption language.")
    elif len(set(languages)) != len(languages) or not set(languages) <= set(LANGUAGES):
        errors["languages"] = _l("Each caption language once: French, Spanish or English.")
    elif settings.languages_together and len(languages) < 2:
        errors["languages_together"] = _l("Two captions together need two languages.")
    low, high = SECONDS_PER_SLIDE
    if not low <= settings.seconds_per_slide <= high:
        errors["seconds_per_slide"] = _l(
            "A slide stays between %(low)s and %(high)s seconds.", low=low, high=high
        )
    booking_id = settings.booking_id
    if booking_id is not None and (
        not 0 < booking_id <= LARGEST_ID or session.get(Booking, booking_id) is None
    ):
        errors["booking_id"] = _l("That booking does not exist.")
    if settings.portrait_ids is not None:
        asked = {
            portrait_id for portrait_id in settings.portrait_ids if 0 < portrait_id <= LARGEST_ID
        }
        known = set(session.scalars(select(Portrait.id).where(Portrait.id.in_(asked))))
        if not settings.portrait_ids:
            errors["portrait_ids"] = _l("Choose at least one portrait, or all of them.")
        elif known != set(settings.portrait_ids):
            errors["portrait_ids"] = _l("A chosen portrait is no longer in the library.")
    if settings.target_ids is not None:
        asked_targets = {
            target_id for target_id in settings.target_ids if 0 < target_id <= LARGEST_ID
        }
        known_targets = set(
            session.scalars(select(ScanTarget.id).where(ScanTarget.id.in_(asked_targets)))
        )
        if known_targets != set(settings.target_ids):
            errors["target_ids"] = _l("A chosen QR target no longer exists.")
    if errors:
        raise InvalidScreen(errors)


def _apply(session: Session, screen: Screen, settings: ScreenSettings) -> None:
    screen.name = settings.name.strip()
    screen.languages = ",".join(settings.languages)
    screen.languages_together = settings.languages_together
    screen.seconds_per_slide = settings.seconds_per_slide
    screen.booking_id = settings.booking_id
    target_ids = settings.target_ids
    if target_ids is None:
        target_ids = tuple(session.scalars(select(ScanTarget.id).order_by(ScanTarget.position)))
    screen.shown_targets = [
        ScreenTarget(target_id=target_id, position=position)
        for position, target_id in enumerate(dict.fromkeys(target_ids))
    ]
    screen.all_portraits = settings.portrait_ids is None
    screen.chosen = [
        ScreenPortrait(portrait_id=portrait_id, position=position)
        # A portrait named twice plays once, where it was first named.
        for position, portrait_id in enumerate(dict.fromkeys(settings.portrait_ids or ()))
    ]


def _free_slug(session: Session, name: str, suffixed: bool = False) -> str:
    """The screen's address, from its name: /kiosk/salle-des-metallos. An address is never
    given twice, even after its screen is deleted: a device left on it, or the history of
    the old screen, would otherwise pass for the new one's."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    base = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:SLUG_MAX_LENGTH] or "ecran"
    slug = f"{base}-{secrets.token_hex(2)}" if suffixed else base
    while _slug_was_used(session, slug):
        slug = f"{base}-{secrets.token_hex(2)}"
    return slug


def _slug_was_used(session: Session, slug: str) -> bool:
    screen = select(Screen.id).where(Screen.slug == slug)
    history = select(AuditEvent.id).where(
        AuditEvent.subject == SUBJECT, AuditEvent.subject_key == slug
    )
    return session.scalar(screen.union_all(history).limit(1)) is not None


def settings_of(screen: Screen) -> ScreenSettings:
    return ScreenSettings(
        name=screen.name,
        languages=tuple(screen.language_order),
        languages_together=screen.languages_together,
        seconds_per_slide=screen.seconds_per_slide,
        booking_id=screen.booking_id,
        portrait_ids=None
        if screen.all_portraits
        else tuple(chosen.portrait_id for chosen in screen.chosen),
        target_ids=tuple(shown.target_id for shown in screen.shown_targets),
    )


def _facts(screen: Screen) -> dict[str, Any]:
    return {"slug": screen.slug, **asdict(settings_of(screen))}


def _record(session, screen, actor, action, before, after, now) -> None:  # type: ignore[no-untyped-def]
    audit.record(
        session,
        actor=actor,
        subject=SUBJECT,
        key=screen.slug,
        action=action,
        at=now,
        before=before,
        after=after,
    )
