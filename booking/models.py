"""What can be booked (offerings and their units), the bookings and the blackouts."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    Time,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from booking.status import HOLDING_STATUSES, BookingStatus, sql_in
from core.database import Base


class OfferingKind(StrEnum):
    EXHIBITION = "exhibition"
    TRAINING = "training"


class VenueSetting(StrEnum):
    INDOOR = "indoor"
    OUTDOOR = "outdoor"


class SiteGround(StrEnum):
    """What the outdoor panels stand on."""

    GRASS = "grass"
    PAVED = "paved"
    GRAVEL = "gravel"
    OTHER = "other"


class SitePermits(StrEnum):
    """Where the permits to show on an outdoor site stand."""

    OBTAINED = "obtained"
    REQUESTED = "requested"
    NOT_NEEDED = "not-needed"
    UNKNOWN = "unknown"


# Upper bounds kept in the schema so a staff edit can never make a range unbounded.
MAX_LENGTH_DAYS = 366
MAX_BUFFER_DAYS = 60

# The SQL form of HOLDING_STATUSES, literal so that queries match the partial index.
HOLDING_SQL = sql_in("status", HOLDING_STATUSES)


def _stored_as_text(enum: type[StrEnum], length: int) -> Enum:
    """An enum kept as plain text; the table's CHECK constraint (named, in the migration)
    says which values are allowed."""
    return Enum(
        enum,
        native_enum=False,
        create_constraint=False,
        length=length,
        values_callable=lambda members: [member.value for member in members],
    )


class Offering(Base):
    __tablename__ = "offerings"
    __table_args__ = (
        CheckConstraint(sql_in("kind", OfferingKind), name="offering_kind"),
        CheckConstraint(
            f"min_days >= 1 AND max_days >= min_days AND max_days <= {MAX_LENGTH_DAYS}",
            name="offering_length",
        ),
        CheckConstraint(
            f"buffer_before_days BETWEEN 0 AND {MAX_BUFFER_DAYS} "
            f"AND buffer_after_days BETWEEN 0 AND {MAX_BUFFER_DAYS}",
            name="offering_buffers",
        ),
        CheckConstraint("lead_days >= 0", name="offering_lead"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    kind: Mapped[OfferingKind] = mapped_column(_stored_as_text(OfferingKind, 20))
    title_fr: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str] = mapped_column(String(200))
    description_fr: Mapped[str] = mapped_column(Text, default="")
    description_en: Mapped[str] = mapped_column(Text, default="")
    venue_setting: Mapped[VenueSetting | None] = mapped_column(_stored_as_text(VenueSetting, 10))
    buffer_before_days: Mapped[int] = mapped_column(Integer, default=0)
    buffer_after_days: Mapped[int] = mapped_column(Integer, default=0)
    min_days: Mapped[int] = mapped_column(Integer, default=1)
    max_days: Mapped[int] = mapped_column(Integer, default=1)
    lead_days: Mapped[int] = mapped_column(Integer, default=0)
    # `send-reminders` writes to the union and the staff this many days before the start.
    reminder_days: Mapped[int] = mapped_column(Integer, default=14, server_default="14")
    # Québec's statutory holidays (booking.holidays) cannot be booked.
    closed_on_holidays: Mapped[bool] = mapped_column(default=False, server_default=false())
    position: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(default=True)

    units: Mapped[list[Unit]] = relationship(
        back_populates="offering", order_by="Unit.position, Unit.id"
    )

    @property
    def is_exhibition(self) -> bool:
        return self.kind == OfferingKind.EXHIBITION


class Unit(Base):
    """One physical copy of an offering: a crate of framed portraits, a trainer team."""

    __tablename__ = "units"

    id: Mapped[int] = mapped_column(primary_key=True)
    offering_id: Mapped[int] = mapped_column(ForeignKey("offerings.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    position: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(default=True)

    offering: Mapped[Offering] = relationship(back_populates="units")


class Booking(Base):
    __tablename__ = "bookings"
    __table_args__ = (
        CheckConstraint(sql_in("status", BookingStatus), name="booking_status"),
        CheckConstraint(
            "end_date >= start_date AND blocked_start <= start_date AND blocked_end >= end_date",
            name="booking_dates",
        ),
        CheckConstraint(sql_in("site_ground", SiteGround), name="booking_site_ground"),
        CheckConstraint(sql_in("site_permits", SitePermits), name="booking_site_permits"),
        # The calendar and the conflict check read holds of one unit by start date.
        Index(
            "ix_bookings_holds",
            "unit_id",
            "blocked_start",
            sqlite_where=text(HOLDING_SQL),
            postgresql_where=text(HOLDING_SQL),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str | None] = mapped_column(String(20), unique=True)
    offering_id: Mapped[int] = mapped_column(ForeignKey("offerings.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    start_date: Mapped[dt.date] = mapped_column(Date)
    end_date: Mapped[dt.date] = mapped_column(Date)
    blocked_start: Mapped[dt.date] = mapped_column(Date)
    blocked_end: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[BookingStatus] = mapped_column(
        _stored_as_text(BookingStatus, 12), default=BookingStatus.REQUESTED
    )
    organization: Mapped[str] = mapped_column(String(200))
    contact_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254))
    phone: Mapped[str] = mapped_column(String(40))
    venue: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(String(300))
    city: Mapped[str] = mapped_column(String(120))
    audience: Mapped[int] = mapped_column(Integer)  # a training's participants too
    language: Mapped[str] = mapped_column(String(2))
    notes: Mapped[str] = mapped_column(Text, default="")
    wall_metres: Mapped[int | None] = mapped_column(Integer)
    venue_setting: Mapped[VenueSetting | None] = mapped_column(_stored_as_text(VenueSetting, 10))
    secure_storage: Mapped[bool | None]
    # What an outdoor exhibition asks of its site, and a training of its day (migration 0007).
    site_ground: Mapped[SiteGround | None] = mapped_column(_stored_as_text(SiteGround, 20))
    site_permits: Mapped[SitePermits | None] = mapped_column(_stored_as_text(SitePermits, 20))
    site_power: Mapped[bool | None]
    site_guard: Mapped[str | None] = mapped_column(String(200))
    start_time: Mapped[dt.time | None] = mapped_column(Time)
    manage_token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    decided_by: Mapped[str | None] = mapped_column(String(200))
    decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    decision_message: Mapped[str | None] = mapped_column(Text)
    cancelled_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    # Raised on every change a calendar shows (dates, unit, status): iCalendar's SEQUENCE,
    # so subscribed calendars update the event instead of adding a second one.
    sequence: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    reminder_sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))

    offering: Mapped[Offering] = relationship()
    unit: Mapped[Unit] = relationship()

    @property
    def holds_dates(self) -> bool:
        return self.status in HOLDING_STATUSES


class Blackout(Base):
    """Dates on which a unit, or every unit of an offering, is not available."""

    __tablename__ = "blackouts"
    __table_args__ = (
        CheckConstraint("(unit_id IS NULL) <> (offering_id IS NULL)", name="blackout_one_target"),
        CheckConstraint("end_date >= start_date", name="blackout_dates"),
        Index("ix_blackouts_offering_end", "offering_id", "end_date"),
        Index("ix_blackouts_unit_end", "unit_id", "end_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    offering_id: Mapped[int | None] = mapped_column(ForeignKey("offerings.id"))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    start_date: Mapped[dt.date] = mapped_column(Date)
    end_date: Mapped[dt.date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(300), default="")


class CalendarVersion(Base):
    """One row whose version the database's triggers (migration 0002) raise on every change
    to offerings, units, bookings or blackouts: what caches compare to stay exact."""

    __tablename__ = "calendar_version"
    __table_args__ = (CheckConstraint("id = 1", name="calendar_version_one_row"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger)


class BookingNote(Base):
    """A staff member's internal note on a booking; the union never sees it."""

    __tablename__ = "booking_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id"), index=True)
    author: Mapped[str] = mapped_column(String(254))
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    text: Mapped[str] = mapped_column(Text)


class WaitlistEntry(Base):
    """A union asked to be told when dates of an offering free up (an email, no account)."""

    __tablename__ = "waitlist_entries"
    __table_args__ = (
        CheckConstraint("end_date >= start_date", name="waitlist_dates"),
        Index("ix_waitlist_waiting", "offering_id", "start_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    offering_id: Mapped[int] = mapped_column(ForeignKey("offerings.id"))
    start_date: Mapped[dt.date] = mapped_column(Date)
    end_date: Mapped[dt.date] = mapped_column(Date)
    email: Mapped[str] = mapped_column(String(254))
    language: Mapped[str] = mapped_column(String(2))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)  # of the emailed link
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    notified_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))

    offering: Mapped[Offering] = relationship()


class CalendarFeedSecret(Base):
    """The secret in the calendar subscription addresses; an admin rotates it."""

    __tablename__ = "calendar_feed_secret"
    __table_args__ = (CheckConstraint("id = 1", name="calendar_feed_secret_one_row"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(64))
    rotated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
