"""Screens, the portraits they play, their QR short links with daily scan counts, and the
minutes each screen was seen showing something."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from booking.models import Booking
from core.database import Base
from media.models import Portrait

SECONDS_PER_SLIDE = (4, 300)  # the shortest and longest a slide may stay
DEFAULT_SECONDS_PER_SLIDE = 12


PORTRAIT = "portrait"  # a link's target when it leads to a portrait's visitor page
# Targets the centre starts with; their addresses come from the settings
# (AMBULANTE_DONATE_URL, _SIGNUP_URL, _MEMBERSHIP_URL), so a target left unset is left out.
BUILT_IN_TARGETS = ("donate", "signup", "membership")


class ScanTarget(Base):
    """Somewhere a QR code can send a visitor: donating, the newsletter, the dues form, or
    a page staff add. Its key never changes: links and their counts are filed under it."""

    __tablename__ = "scan_targets"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(40), unique=True)
    url: Mapped[str | None] = mapped_column(String(500))  # None: from the settings
    label_fr: Mapped[str] = mapped_column(String(120))
    label_es: Mapped[str] = mapped_column(String(120))
    label_en: Mapped[str] = mapped_column(String(120))
    position: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))

    def label(self, language: str) -> str:
        return getattr(self, f"label_{language}", self.label_fr)


class Screen(Base):
    __tablename__ = "screens"
    __table_args__ = (
        CheckConstraint(
            f"seconds_per_slide BETWEEN {SECONDS_PER_SLIDE[0]} AND {SECONDS_PER_SLIDE[1]}",
            name="screen_seconds_per_slide",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("bookings.id", ondelete="SET NULL"))
    # Caption languages in the order they play, comma-separated: "fr,es,en".
    languages: Mapped[str] = mapped_column(String(20), default="fr,es,en")
    languages_together: Mapped[bool] = mapped_column(default=False)  # two at once, not in turn
    seconds_per_slide: Mapped[int] = mapped_column(Integer, default=DEFAULT_SECONDS_PER_SLIDE)
    all_portraits: Mapped[bool] = mapped_column(default=True)  # every published portrait
    is_default: Mapped[bool] = mapped_column(default=False)  # what /kiosk/ plays
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))

    booking: Mapped[Booking | None] = relationship()
    chosen: Mapped[list[ScreenPortrait]] = relationship(
        order_by="ScreenPortrait.position", cascade="all, delete-orphan"
    )
    shown_targets: Mapped[list[ScreenTarget]] = relationship(
        order_by="ScreenTarget.position", cascade="all, delete-orphan"
    )

    @property
    def language_order(self) -> list[str]:
        return [language for language in self.languages.split(",") if language]


class ScreenPortrait(Base):
    """A portrait a screen plays when it does not play them all."""

    __tablename__ = "screen_portraits"

    screen_id: Mapped[int] = mapped_column(
        ForeignKey("screens.id", ondelete="CASCADE"), primary_key=True
    )
    portrait_id: Mapped[int] = mapped_column(
        ForeignKey("portraits.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)

    portrait: Mapped[Portrait] = relationship()


class ScreenTarget(Base):
    """A target whose code a screen shows."""

    __tablename__ = "screen_targets"

    screen_id: Mapped[int] = mapped_column(
        ForeignKey("screens.id", ondelete="CASCADE"), primary_key=True
    )
    target_id: Mapped[int] = mapped_column(
        ForeignKey("scan_targets.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)

    target: Mapped[ScanTarget] = relationship()


class QrLink(Base):
    """What a QR code on a screen, or printed for a venue, leads to. The destination is
    worked out from the target and the settings at each scan, never from the request."""

    __tablename__ = "qr_links"
    __table_args__ = (
        UniqueConstraint("screen_id", "purpose", name="uq_qr_links_screen_purpose"),
        UniqueConstraint("booking_id", "purpose", name="uq_qr_links_booking_purpose"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    # Whose code it is: a screen's, or a venue's printed cards and poster.
    screen_id: Mapped[int | None] = mapped_column(ForeignKey("screens.id", ondelete="SET NULL"))
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("bookings.id", ondelete="SET NULL"))
    # A target's key, or PORTRAIT.
    target: Mapped[str] = mapped_column(String(40))
    portrait_id: Mapped[int | None] = mapped_column(ForeignKey("portraits.id", ondelete="SET NULL"))
    # One link per owner and purpose: a target's key, or "portrait:<id>".
    purpose: Mapped[str] = mapped_column(String(40))
    retired_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))

    screen: Mapped[Screen | None] = relationship()
    booking: Mapped[Booking | None] = relationship()
    portrait: Mapped[Portrait | None] = relationship()
    # The target its key names (None for a portrait's link), read once per link and request.
    scan_target: Mapped[ScanTarget | None] = relationship(
        primaryjoin="foreign(QrLink.target) == ScanTarget.key", viewonly=True
    )


class ScanCount(Base):
    """How many times a code was scanned on one Montréal day: a count, nothing else."""

    __tablename__ = "scan_counts"

    link_id: Mapped[int] = mapped_column(
        ForeignKey("qr_links.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    scans: Mapped[int] = mapped_column(Integer, default=0)


class Heartbeat(Base):
    """A minute in which a screen said what it was showing."""

    __tablename__ = "screen_heartbeats"

    screen_id: Mapped[int] = mapped_column(
        ForeignKey("screens.id", ondelete="CASCADE"), primary_key=True
    )
    minute: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    portrait_slug: Mapped[str | None] = mapped_column(String(80))
    bundle_version: Mapped[str] = mapped_column(String(64), default="")


class ScanBatch(Base):
    """A spool file whose scans were added to the counts, by its random id: added in the
    same transaction as the counts, so no file is ever counted twice."""

    __tablename__ = "scan_batches"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    counted_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
