"""Portraits, the files they are served as, and the jobs that make those files."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import CheckConstraint, Date, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.database import Base


class PortraitState(StrEnum):
    PROCESSING = "processing"  # its sizes are being made
    READY = "ready"
    FAILED = "failed"  # every try failed; `failure` says why


LANGUAGES = ("fr", "es", "en")  # captions and alt texts: French, Spanish, English


class Portrait(Base):
    __tablename__ = "portraits"
    __table_args__ = (
        CheckConstraint("state IN ('processing', 'ready', 'failed')", name="portrait_state"),
        Index("ix_portraits_position", "position", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    place: Mapped[str] = mapped_column(String(200), default="")
    country: Mapped[str] = mapped_column(String(100), default="")
    caption_fr: Mapped[str] = mapped_column(Text, default="")
    caption_es: Mapped[str] = mapped_column(Text, default="")
    caption_en: Mapped[str] = mapped_column(Text, default="")
    alt_fr: Mapped[str] = mapped_column(String(500), default="")
    alt_es: Mapped[str] = mapped_column(String(500), default="")
    alt_en: Mapped[str] = mapped_column(String(500), default="")
    credit: Mapped[str] = mapped_column(String(200), default="")
    published: Mapped[bool] = mapped_column(default=False)
    consent_given_on: Mapped[dt.date | None] = mapped_column(Date)
    consent_valid_until: Mapped[dt.date | None] = mapped_column(Date)
    consent_withdrawn_on: Mapped[dt.date | None] = mapped_column(Date)
    # The file as uploaded (to skip a file already imported) and the clean original kept.
    source_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    original_sha256: Mapped[str] = mapped_column(String(64))
    original_format: Mapped[str] = mapped_column(String(10))
    original_size: Mapped[int] = mapped_column(Integer)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(12), default=PortraitState.PROCESSING.value)
    failure: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))

    renditions: Mapped[list[Rendition]] = relationship(
        back_populates="portrait",
        order_by="Rendition.width, Rendition.format",
        cascade="all, delete-orphan",
    )

    def consent_holds(self, today: dt.date) -> bool:
        """Consent given, not withdrawn, not expired: the one rule for showing a portrait."""
        return (
            self.consent_given_on is not None
            and self.consent_given_on <= today
            and self.consent_withdrawn_on is None
            and (self.consent_valid_until is None or today <= self.consent_valid_until)
        )

    def is_public(self, today: dt.date) -> bool:
        return self.published and self.state == PortraitState.READY and self.consent_holds(today)


class Rendition(Base):
    """One size of a portrait in one format, stored by its content's hash."""

    __tablename__ = "portrait_renditions"
    __table_args__ = (
        CheckConstraint("format IN ('webp', 'jpeg')", name="rendition_format"),
        Index("ix_renditions_portrait", "portrait_id", "width", "format", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    portrait_id: Mapped[int] = mapped_column(ForeignKey("portraits.id", ondelete="CASCADE"))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    format: Mapped[str] = mapped_column(String(10))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column(Integer)

    portrait: Mapped[Portrait] = relationship(back_populates="renditions")


class RenditionJob(Base):
    """Make a portrait's renditions: claimed by one worker at a time, retried on failure."""

    __tablename__ = "rendition_jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    portrait_id: Mapped[int] = mapped_column(
        ForeignKey("portraits.id", ondelete="CASCADE"), unique=True
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # Not tried before this: a worker's claim, or the wait after a failed try.
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(Text)
    done_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), index=True)


class LibraryVersion(Base):
    """One row the database's triggers (migration 0004) raise on every change to portraits
    and their renditions: pages that show portraits are kept per version."""

    __tablename__ = "portrait_library_version"
    __table_args__ = (CheckConstraint("id = 1", name="portrait_library_version_one_row"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
