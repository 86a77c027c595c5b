"""Where each exhibition set travels: its venues in date order and every transfer, from the
centre to the first venue, from venue to venue and back, for shipping to arrange in one look."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import ClassVar

from flask import Blueprint, Flask, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select, text
from sqlalchemy.orm import Session, joinedload

from booking.models import HOLDING_SQL, Booking, Offering, OfferingKind, Unit
from booking.timeline import CalendarQueryError, parse_day, refusal
from core.centre import centre
from core.clock import today_local
from core.database import get_session
from core.frame import add_staff_navigation

HOLDING = text(f"bookings.{HOLDING_SQL}")
ONE_DAY = dt.timedelta(days=1)


@dataclass(frozen=True)
class Place:
    """One end of a transfer: a venue (its booking's) or the centre (booking None)."""

    name: str
    address: str
    city: str
    contact: str
    phone: str
    booking: Booking | None = None

    @property
    def label(self) -> str:
        return f"{self.name}, {self.city}" if self.city else self.name


@dataclass(frozen=True)
class Transfer:
    kind: ClassVar[str] = "transfer"
    origin: Place
    destination: Place
    ships_on: dt.date  # the day the set may leave
    set_up_from: dt.date  # the first day it may arrive
    arrives_by: dt.date  # the day it must be there


@dataclass(frozen=True)
class Stay:
    """The set at a venue, for one booking's own dates."""

    kind: ClassVar[str] = "stay"
    booking: Booking


@dataclass(frozen=True)
class UnitItinerary:
    unit: Unit
    steps: list[Stay | Transfer]  # in the order the set lives them

    @property
    def stays(self) -> list[Stay]:
        return [step for step in self.steps if isinstance(step, Stay)]


def venue_of(booking: Booking) -> Place:
    return Place(
        booking.venue,
        booking.address,
        booking.city,
        booking.contact_name,
        booking.phone,
        booking,
    )


def itineraries(session: Session, first: dt.date, centre: Place) -> list[UnitItinerary]:
    """Each exhibition unit (active, or retired with venues still ahead) with its held
    bookings whose blocked days are not over by `first` (a set still on its way back is
    shown coming back): the set leaves the centre for the first venue (unless it
    is already there), goes straight from one venue to the next, and comes back after the
    last."""
    holds = session.scalars(
        select(Booking)
        .join(Offering, Booking.offering_id == Offering.id)
        .where(Offering.kind == OfferingKind.EXHIBITION, HOLDING, Booking.blocked_end >= first)
        .order_by(Booking.unit_id, Booking.start_date)
    ).all()
    unit_ids_with_venues = {booking.unit_id for booking in holds}
    units = session.scalars(
        select(Unit)
        .join(Offering)
        .where(
            Offering.kind == OfferingKind.EXHIBITION,
            or_(Unit.active, Unit.id.in_(unit_ids_with_venues)),
        )
        .options(joinedload(Unit.offering))
        .order_by(Offering.position, Offering.id, Unit.position, Unit.id)
    ).all()
    return [
        UnitItinerary(unit, _steps([b for b in holds if b.unit_id == unit.id], first, centre))
        for unit in units
    ]


def _steps(bookings: list[Booking], first: dt.date, centre: Place) -> list[Stay | Transfer]:
    if not bookings:
        return []
    steps: list[Stay | Transfer] = []
    opening = bookings[0]
    if opening.start_date >= first:  # not yet at its first venue
        steps.append(
            Transfer(
                centre,
                venue_of(opening),
                ships_on=opening.blocked_start,
                set_up_from=opening.blocked_start,
                arrives_by=opening.start_date,
            )
        )
    for here, there in zip(bookings, bookings[1:], strict=False):
        steps.append(Stay(here))
        steps.append(
            Transfer(
                venue_of(here),
                venue_of(there),
                ships_on=here.end_date + ONE_DAY,
                set_up_from=there.blocked_start,
                arrives_by=there.start_date,
            )
        )
    closing = bookings[-1]
    steps.append(Stay(closing))
    steps.append(
        Transfer(
            venue_of(closing),
            centre,
            ships_on=closing.end_date + ONE_DAY,
            set_up_from=closing.end_date + ONE_DAY,
            arrives_by=closing.blocked_end,
        )
    )
    return steps


# The web page.

blueprint = Blueprint("itinerary", __name__, url_prefix="/staff")


@blueprint.get("/itinerary")
def itinerary_page() -> str | tuple[object, int]:
    today = today_local()
    try:
        first = parse_day(request.args.get("from"), today) or today
    except CalendarQueryError as error:
        return refusal(error)
    contact = centre()  # where the sets leave from and come back to
    start_and_end = Place(_("The centre"), contact.address, "", "", contact.phone)
    return render_template(
        "booking/desk/itinerary.html",
        units=itineraries(get_session(), first, start_and_end),
        first=first,
        today=today,
    )


def init_app(app: Flask) -> None:
    app.register_blueprint(blueprint)
    add_staff_navigation(app, "itinerary.itinerary_page", _l("Itinerary"))
