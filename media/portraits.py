"""The portrait library's rules: add a cleaned image, change what is said about a portrait,
order, delete, and which portraits the public may see (consent decides, every time)."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from core.database import begin_write
from core.staff import audit
from media import storage
from media.ingest import CleanImage
from media.models import Portrait, PortraitState, Rendition, RenditionJob

SUBJECT = "portrait"


class PortraitNotFound(Exception):
    """No portrait by that name, or not one the public may see."""


class AlreadyImported(Exception):
    """The same file (by the hash of its bytes) is already in the library."""

    def __init__(self, portrait: Portrait) -> None:
        super().__init__(portrait.slug)
        self.portrait = portrait


@dataclass(frozen=True)
class PortraitText:
    """What staff write about a portrait."""

    caption_fr: str = ""
    caption_es: str = ""
    caption_en: str = ""
    alt_fr: str = ""
    alt_es: str = ""
    alt_en: str = ""
    place: str = ""
    country: str = ""
    credit: str = ""
    published: bool = False
    consent_given_on: dt.date | None = None
    consent_valid_until: dt.date | None = None
    consent_withdrawn_on: dt.date | None = None


def _public(today: dt.date):  # type: ignore[no-untyped-def]
    """Portrait.is_public as SQL."""
    return and_(
        Portrait.published.is_(True),
        Portrait.state == PortraitState.READY.value,
        Portrait.consent_given_on <= today,
        Portrait.consent_withdrawn_on.is_(None),
        or_(Portrait.consent_valid_until.is_(None), Portrait.consent_valid_until >= today),
    )


def public_portraits(session: Session, today: dt.date, limit: int | None = None) -> list[Portrait]:
    """Portraits the public may see, in the library's order, with their renditions."""
    query = (
        select(Portrait)
        .where(_public(today))
        .options(selectinload(Portrait.renditions))
        .order_by(Portrait.position, Portrait.id)
    )
    if limit is not None:
        query = query.limit(limit)
    return list(session.scalars(query))


def public_portrait(session: Session, slug: str, today: dt.date) -> Portrait:
    portrait = session.scalar(
        select(Portrait)
        .where(Portrait.slug == slug, _public(today))
        .options(selectinload(Portrait.renditions))
    )
    if portrait is None:
        raise PortraitNotFound()
    return portrait


def public_rendition(session: Session, sha256: str, image_format: str, today: dt.date) -> bool:
    """Whether a file may be served to the public: one rendition of a portrait the public
    may see has that content (the same bytes may serve two portraits)."""
    found = session.scalar(
        select(Rendition.id)
        .join(Portrait)
        .where(Rendition.sha256 == sha256, Rendition.format == image_format, _public(today))
        .limit(1)
    )
    return found is not None


def staff_portraits(session: Session) -> list[Portrait]:
    return list(
        session.scalars(
            select(Portrait)
            .options(selectinload(Portrait.renditions))
            .order_by(Portrait.position, Portrait.id)
        )
    )


def portrait_by_id(session: Session, portrait_id: int) -> Portrait:
    portrait = session.get(Portrait, portrait_id)
    if portrait is None:
        raise PortraitNotFound()
    return portrait


def portrait_of_file(session: Session, source_sha256: str) -> Portrait | None:
    """The portrait made from the file whose bytes (as uploaded) have this hash, if any."""
    return session.scalar(select(Portrait).where(Portrait.source_sha256 == source_sha256))


def add_portrait(
    session: Session,
    data_dir: Path,
    image: CleanImage,
    actor: str | None,
    now: dt.datetime,
    text: PortraitText | None = None,
) -> Portrait:
    """Keep the clean original and queue its renditions; the caller commits. The file is
    written first (content-addressed, so a repeat writes nothing new); only then the row."""
    existing = portrait_of_file(session, image.source_sha256)
    if existing is not None:
        raise AlreadyImported(existing)
    storage.store(data_dir, image.sha256, image.format, image.data)
    begin_write(session)
    existing = portrait_of_file(session, image.source_sha256)
    if existing is not None:  # imported by another process meanwhile
        session.rollback()
        raise AlreadyImported(existing)
    last = session.scalar(select(func.max(Portrait.position))) or 0
    portrait = Portrait(
        slug=f"p-{secrets.token_hex(4)}",  # says nothing about who is in the picture
        position=last + 1,
        source_sha256=image.source_sha256,
        original_sha256=image.sha256,
        original_format=image.format,
        original_size=len(image.data),
        width=image.width,
        height=image.height,
        state=PortraitState.PROCESSING.value,
        created_at=now,
        **asdict(text or PortraitText()),
    )
    session.add(portrait)
    try:
        session.flush()
    except IntegrityError:
        # PostgreSQL: another transaction added the same file after the check above (a
        # double-clicked upload); its row is committed once this one has waited for it.
        session.rollback()
        existing = portrait_of_file(session, image.source_sha256)
        if existing is None:
            raise
        raise AlreadyImported(existing) from None
    session.add(RenditionJob(portrait_id=portrait.id))
    if actor is not None:  # a person's upload; the demo placeholders are nobody's doing
        _record(
            session, portrait, actor, "portrait added", {}, {"size": portrait.original_size}, now
        )
    return portrait


def _facts(portrait: Portrait) -> dict[str, Any]:
    return {name: getattr(portrait, name) for name in PortraitText.__dataclass_fields__}


def update_portrait(
    session: Session, portrait_id: int, text: PortraitText, actor: str, now: dt.datetime
) -> Portrait:
    begin_write(session)
    portrait = portrait_by_id(session, portrait_id)
    before = _facts(portrait)
    for name, value in asdict(text).items():
        setattr(portrait, name, value)
    changed_before, changed_after = audit.changed(before, _facts(portrait))
    if changed_after:
        _record(session, portrait, actor, "portrait changed", changed_before, changed_after, now)
    session.flush()
    return portrait


def move_portrait(
    session: Session, portrait_id: int, steps: int, actor: str, now: dt.datetime
) -> None:
    """Up (negative) or down (positive) in the library's order, which screens follow."""
    begin_write(session)
    ordered = list(session.scalars(select(Portrait).order_by(Portrait.position, Portrait.id)))
    index = next((i for i, p in enumerate(ordered) if p.id == portrait_id), None)
    if index is None:
        session.rollback()
        raise PortraitNotFound()
    target = max(0, min(len(ordered) - 1, index + steps))
    if target == index:  # already first or last: nothing moves, nothing to record
        session.rollback()
        return
    ordered.insert(target, ordered.pop(index))
    place_in_order(ordered)
    _record(
        session,
        ordered[target],
        actor,
        "portrait moved",
        {"position": index + 1},
        {"position": target + 1},
        now,
    )
    session.flush()


def reorder(session: Session, portrait_ids: Sequence[int], actor: str, now: dt.datetime) -> None:
    """A new order for the whole library (drag and drop): every portrait, each once."""
    begin_write(session)
    ordered = list(session.scalars(select(Portrait).order_by(Portrait.position, Portrait.id)))
    if sorted(portrait_ids) != sorted(portrait.id for portrait in ordered):
        session.rollback()
        raise PortraitNotFound()
    by_id = {portrait.id: portrait for portrait in ordered}
    place_in_order([by_id[portrait_id] for portrait_id in portrait_ids])
    audit.record(
        session,
        actor=actor,
        subject=SUBJECT,
        key="*",
        action="portraits reordered",
        at=now,
        after={"order": list(portrait_ids)},
    )
    session.flush()


def place_in_order(portraits: Sequence[Portrait]) -> None:
    for position, portrait in enumerate(portraits, start=1):
        portrait.position = position


def delete_portrait(
    session: Session, data_dir: Path, portrait_id: int, actor: str, now: dt.datetime
) -> None:
    """The portrait, its renditions and its files go (files another portrait shares stay)."""
    begin_write(session)
    portrait = portrait_by_id(session, portrait_id)
    files = [(portrait.original_sha256, portrait.original_format)] + [
        (rendition.sha256, rendition.format) for rendition in portrait.renditions
    ]
    _record(session, portrait, actor, "portrait deleted", _facts(portrait), {}, now)
    session.delete(portrait)
    session.flush()
    session.commit()
    remove_unused_files(session, data_dir, files)


def remove_unused_files(session: Session, data_dir: Path, files: Sequence[tuple[str, str]]) -> None:
    """Remove each (sha256, format) file no portrait uses any more (the same bytes may serve
    two portraits); the caller has committed whatever stopped using them."""
    for sha256, image_format in files:
        if not _still_used(session, sha256):
            storage.remove(data_dir, sha256, image_format)
    session.commit()


def _still_used(session: Session, sha256: str) -> bool:
    as_original = select(Portrait.id).where(Portrait.original_sha256 == sha256)
    as_rendition = select(Rendition.id).where(Rendition.sha256 == sha256)
    return session.scalar(as_original.limit(1)) is not None or (
        session.scalar(as_rendition.limit(1)) is not None
    )


def _record(session, portrait, actor, action, before, after, now) -> None:  # type: ignore[no-untyped-def]
    audit.record(
        session,
        actor=actor,
        subject=SUBJECT,
        key=portrait.slug,
        action=action,
        at=now,
        before=before,
        after=after,
    )
