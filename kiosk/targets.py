"""Where QR codes send visitors: the targets (donating, the newsletter, the dues form, and
any page staff add), what each screen shows of them, and their addresses."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import urlsplit

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.database import begin_write
from core.header_text import breaks_a_header_line
from core.staff import audit
from kiosk.links import Destinations, address_of
from kiosk.models import BUILT_IN_TARGETS, PORTRAIT, ScanTarget
from kiosk.wording import WORDS

SUBJECT = "scan target"
URL_MAX_LENGTH = ScanTarget.__table__.c.url.type.length
LABEL_MAX_LENGTH = ScanTarget.__table__.c.label_fr.type.length
KEY_MAX_LENGTH = ScanTarget.__table__.c.key.type.length
# A key is the name of the target's links and counts: it must not be mistaken for the
# kiosk's own words (the bundle sends labels beside them) or for a portrait's purpose.
RESERVED_KEYS = {PORTRAIT, *WORDS}

ACTION_LABELS = {
    "target added": _l("QR target added"),
    "target changed": _l("QR target changed"),
}


class TargetNotFound(Exception):
    pass


class InvalidTarget(Exception):
    """What is wrong, by field of the target form."""

    def __init__(self, errors: Mapping[str, Any]) -> None:
        super().__init__(", ".join(errors))
        self.errors = dict(errors)


@dataclass(frozen=True)
class TargetFields:
    """What staff say about a target. A built-in target's empty url: from the settings."""

    label_fr: str
    label_es: str
    label_en: str
    url: str = ""
    active: bool = True


def destinations_of(config: Mapping[str, Any]) -> Destinations:
    """The addresses the settings give: AMBULANTE_PUBLIC_URL, and AMBULANTE_<KEY>_URL for
    each built-in target."""
    return Destinations(
        public_url=config["PUBLIC_URL"],
        built_in_urls={key: config.get(f"{key.upper()}_URL") or "" for key in BUILT_IN_TARGETS},
    )


def all_targets(session: Session) -> list[ScanTarget]:
    return list(session.scalars(select(ScanTarget).order_by(ScanTarget.position, ScanTarget.id)))


def offered(targets: Sequence[ScanTarget], destinations: Destinations) -> list[ScanTarget]:
    """The targets a visitor can be sent to now: active, with an address."""
    return [target for target in targets if target.active and address_of(target, destinations)]


def offered_now(session: Session, destinations: Destinations) -> list[ScanTarget]:
    """Every target a visitor can be sent to now, in order: what a venue's poster shows."""
    return offered(all_targets(session), destinations)


def target_by_id(session: Session, target_id: int) -> ScanTarget:
    target = session.get(ScanTarget, target_id)
    if target is None:
        raise TargetNotFound(target_id)
    return target


def add_target(
    session: Session, name: str, fields: TargetFields, actor: str, now: dt.datetime
) -> ScanTarget:
    """A page staff add (a petition, an event): its key comes from its name, once."""
    key = _key_of(name)
    errors = _errors(fields, built_in=False)
    if not key:
        errors["name"] = _l("Give the target a name made of letters or digits.")
    elif key in RESERVED_KEYS or session.scalar(select(ScanTarget.id).where(ScanTarget.key == key)):
        errors["name"] = _l("A target already has that name.")
    if errors:
        raise InvalidTarget(errors)
    begin_write(session)
    # Again under the write lock: two staff adding the same name at once get one target, and
    # the other a message (on PostgreSQL the unique key refuses the second insert).
    taken = InvalidTarget({"name": _l("A target already has that name.")})
    if session.scalar(select(ScanTarget.id).where(ScanTarget.key == key)):
        raise taken
    last = session.scalar(select(func.max(ScanTarget.position))) or 0
    target = ScanTarget(key=key, position=last + 1, created_at=now)
    _apply(target, fields)
    try:
        with session.begin_nested():
            session.add(target)
    except IntegrityError:
        raise taken from None
    _record(session, target, actor, "target added", {}, _facts(target), now)
    return target


def update_target(
    session: Session, target_id: int, fields: TargetFields, actor: str, now: dt.datetime
) -> ScanTarget:
    target = target_by_id(session, target_id)
    errors = _errors(fields, built_in=target.key in BUILT_IN_TARGETS)
    if errors:
        raise InvalidTarget(errors)
    begin_write(session)
    # As it is now, under the write lock: what the log says it was (the key never changes).
    session.refresh(target)
    before = _facts(target)
    _apply(target, fields)
    session.flush()
    changed_before, changed_after = audit.changed(before, _facts(target))
    if changed_after:
        _record(session, target, actor, "target changed", changed_before, changed_after, now)
    return target


def _key_of(name: str) -> str:
    """ "Pétition 2027" is petition-2027: accents dropped, as a screen's address is made."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    key = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")
    return key[:KEY_MAX_LENGTH].rstrip("-")


def _errors(fields: TargetFields, built_in: bool) -> dict[str, Any]:
    errors: dict[str, Any] = {}
    for language in ("fr", "es", "en"):
        label = getattr(fields, f"label_{language}").strip()
        if not label:
            errors[f"label_{language}"] = _l("Write the label visitors read under the code.")
        elif len(label) > LABEL_MAX_LENGTH or breaks_a_header_line(label):
            errors[f"label_{language}"] = _l(
                "A label is one line of at most %(n)s characters.", n=LABEL_MAX_LENGTH
            )
    url = fields.url.strip()
    if (url or not built_in) and not _is_web_address(url):
        errors["url"] = _l("Give the full address of the page, starting with https://.")
    return errors


def _is_web_address(url: str) -> bool:
    """A page on the web a phone can open: http(s), a host, one piece (no blank anywhere)."""
    if len(url) > URL_MAX_LENGTH or breaks_a_header_line(url):
        return False
    if any(character.isspace() for character in url):
        return False
    try:
        parts = urlsplit(url)
    except ValueError:  # "https://[abc": not an address at all
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def _apply(target: ScanTarget, fields: TargetFields) -> None:
    target.label_fr = fields.label_fr.strip()
    target.label_es = fields.label_es.strip()
    target.label_en = fields.label_en.strip()
    target.url = fields.url.strip() or None
    target.active = fields.active


def fields_of(target: ScanTarget) -> TargetFields:
    return TargetFields(
        label_fr=target.label_fr,
        label_es=target.label_es,
        label_en=target.label_en,
        url=target.url or "",
        active=target.active,
    )


def _facts(target: ScanTarget) -> dict[str, Any]:
    return {"key": target.key, **asdict(fields_of(target))}


def _record(session, target, actor, action, before, after, now) -> None:  # type: ignore[no-untyped-def]
    audit.record(
        session,
        actor=actor,
        subject=SUBJECT,
        key=target.key,
        action=action,
        at=now,
        before=before,
        after=after,
    )
