"""Print-ready PDFs for a venue: a caption card per portrait, and a poster. Their QR codes
belong to the venue's booking, so scans of the printed codes count for that venue."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from babel.dates import format_interval
from flask import Blueprint, Flask, current_app, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from booking.models import Booking
from booking.status import BookingStatus
from core.clock import now_utc, today_local
from core.database import get_session
from core.frame import add_page_part, add_staff_navigation
from core.web import error_response
from kiosk.links import Destinations, links_of, portrait_purpose, short_url
from kiosk.models import Screen
from kiosk.pdf_cards import (
    CARDS_PER_PAGE,
    PAPERS,
    Card,
    Paper,
    Poster,
    PosterCode,
    caption_cards_pdf,
    poster_pdf,
)
from kiosk.screen_forms import venues
from kiosk.screens import portraits_on
from kiosk.targets import destinations_of, offered_now
from media import storage
from media.models import LANGUAGES, Portrait
from media.portraits import public_portraits

blueprint = Blueprint("printables", __name__, url_prefix="/staff")

DEFAULT_PAPER = "letter"
PRINT_WIDTH = 960  # pixels: a card's photo, about 3.4 in wide, at close to 300 dpi
# A venue that never takes place prints nothing: its codes would count for nobody.
NOT_TAKING_PLACE = (BookingStatus.DECLINED, BookingStatus.CANCELLED)
DATE_LOCALES = ("fr_CA", "en_CA")  # the poster's dates, French first
# Where the booking's staff page draws the parts features add (core.frame.page_parts).
STAFF_BOOKING_PAGE = "staff_booking_page"


class NotAVenue(Exception):
    """No such booking, or not one of the exhibition's venues."""


class NothingToPrint(Exception):
    """No portrait may be shown at the venue today."""


def venue_booking(session: Session, booking_id: int) -> Booking:
    """The exhibition booking whose printables staff ask for."""
    booking = session.get(Booking, booking_id)
    if booking is None or not is_a_venue(booking):
        raise NotAVenue(booking_id)
    return booking


def is_a_venue(booking: Booking) -> bool:
    """An exhibition's booking that takes place (or did)."""
    return (
        booking.reference is not None
        and booking.offering.is_exhibition
        and booking.status not in NOT_TAKING_PLACE
    )


def portraits_at(session: Session, booking: Booking, today: dt.date) -> list[Portrait]:
    """What the venue shows: what its screens play (in their order, each portrait once), or
    every portrait the public may see when no screen serves it."""
    screens = session.scalars(
        select(Screen).where(Screen.booking_id == booking.id).order_by(Screen.id)
    ).all()
    if not screens:
        return public_portraits(session, today)
    shown: dict[int, Portrait] = {}
    for screen in screens:
        for portrait in portraits_on(session, screen, today):
            shown.setdefault(portrait.id, portrait)
    return list(shown.values())


def caption_cards(
    session: Session,
    booking: Booking,
    destinations: Destinations,
    data_dir: Path,
    today: dt.date,
    now: dt.datetime,
) -> list[Card]:
    """A card per portrait the venue shows, each with the venue's own code for it."""
    portraits = portraits_at(session, booking, today)
    if not portraits:
        raise NothingToPrint(booking.id)
    links = links_of(session, booking, [], portraits, now)  # the venue's own codes
    return [
        _card(
            portrait,
            short_url(destinations.public_url, links[portrait_purpose(portrait)].code),
            data_dir,
        )
        for portrait in portraits
    ]


def _card(portrait: Portrait, code_url: str, data_dir: Path) -> Card:
    photo, size = _photo(portrait, data_dir)
    return Card(
        photo=photo,
        photo_size=size,
        captions={language: getattr(portrait, f"caption_{language}") for language in LANGUAGES},
        place=", ".join(part for part in (portrait.place, portrait.country) if part),
        credit=portrait.credit,
        code_url=code_url,
        alt=portrait.alt_fr,
    )


def _photo(portrait: Portrait, data_dir: Path) -> tuple[bytes | None, tuple[int, int]]:
    """The JPEG for print: the smallest at least PRINT_WIDTH wide, else the widest there is.
    None when no file can be read (the card is printed without it)."""
    jpegs = sorted(
        (rendition for rendition in portrait.renditions if rendition.format == "jpeg"),
        key=lambda rendition: rendition.width,
    )
    if not jpegs:
        return None, (portrait.width, portrait.height)
    chosen = next((each for each in jpegs if each.width >= PRINT_WIDTH), jpegs[-1])
    try:
        data = storage.read(data_dir, chosen.sha256, "jpeg")
    except OSError:
        return None, (chosen.width, chosen.height)
    return data, (chosen.width, chosen.height)


def venue_poster(
    session: Session, booking: Booking, destinations: Destinations, now: dt.datetime
) -> Poster:
    """The exhibition, the venue and its dates, and a code per target offered now."""
    targets = offered_now(session, destinations)
    links = links_of(session, booking, targets, [], now)
    offering = booking.offering
    return Poster(
        titles=tuple(dict.fromkeys(title for title in (offering.title_fr, offering.title_en))),
        venue=", ".join(part for part in (booking.venue, booking.city) if part),
        dates=tuple(
            dict.fromkeys(
                format_interval(booking.start_date, booking.end_date, "yMMMMd", locale=locale)
                for locale in DATE_LOCALES
            )
        ),
        codes=[
            PosterCode(
                labels={language: target.label(language) for language in LANGUAGES},
                url=short_url(destinations.public_url, links[target.key].code),
            )
            for target in targets
        ],
    )


@dataclass(frozen=True)
class VenueRow:
    booking: Booking
    cards: int  # how many caption cards its PDF holds

    @property
    def sheets(self) -> int:
        return -(-self.cards // CARDS_PER_PAGE)


def venue_rows(session: Session, today: dt.date) -> list[VenueRow]:
    """The exhibition's coming and current venues, with what their cards hold."""
    return [
        VenueRow(booking, len(portraits_at(session, booking, today)))
        for booking in venues(session, today)
    ]


# -- routes


@blueprint.get("/printables")
def list_printables() -> str:
    return render_template(
        "kiosk/printables/list.html",
        rows=venue_rows(get_session(), today_local()),
        papers=PAPERS,
    )


@blueprint.get("/bookings/<int:booking_id>/caption-cards.pdf")
def caption_cards_file(booking_id: int) -> Response | tuple[Response | str, int]:
    paper = _paper()
    if paper is None:
        return _unknown_paper()
    session = get_session()
    try:
        booking = venue_booking(session, booking_id)
        cards = caption_cards(
            session,
            booking,
            destinations_of(current_app.config),
            current_app.config["DATA_DIR"],
            today_local(),
            now_utc(),
        )
    except NotAVenue:
        return _not_a_venue()
    except NothingToPrint:
        return error_response(
            409, _("No portrait may be shown at this venue today: there are no cards to print.")
        )
    title = _("Caption cards: %(reference)s", reference=booking.reference)
    return _pdf(caption_cards_pdf(cards, paper, title), booking, "caption-cards", paper)


@blueprint.get("/bookings/<int:booking_id>/poster.pdf")
def poster_file(booking_id: int) -> Response | tuple[Response | str, int]:
    paper = _paper()
    if paper is None:
        return _unknown_paper()
    session = get_session()
    try:
        booking = venue_booking(session, booking_id)
    except NotAVenue:
        return _not_a_venue()
    poster = venue_poster(session, booking, destinations_of(current_app.config), now_utc())
    title = _("Poster: %(reference)s", reference=booking.reference)
    return _pdf(poster_pdf(poster, paper, title), booking, "poster", paper)


def _paper() -> Paper | None:
    return PAPERS.get(request.args.get("paper", DEFAULT_PAPER).strip().lower())


def _unknown_paper() -> tuple[Response | str, int]:
    return error_response(400, _("Choose the paper size: letter (the default) or a4."))


def _not_a_venue() -> tuple[Response | str, int]:
    return error_response(
        404,
        _(
            "Caption cards and posters are printed for an exhibition booking that takes "
            "place: this booking does not exist, is a training, or was declined or cancelled."
        ),
    )


def _pdf(data: bytes, booking: Booking, name: str, paper: Paper) -> Response:
    response = Response(data, mimetype="application/pdf")
    file_name = f"{booking.reference}-{name}-{paper.name}.pdf"
    response.headers["Content-Disposition"] = f'inline; filename="{file_name}"'
    # Made for staff: no shared cache keeps it.
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _booking_page_links(booking: Booking, **_context: Any) -> str:
    """The venue's printables on its booking's staff page (nothing for a training)."""
    if not is_a_venue(booking):
        return ""
    return render_template("kiosk/printables/_booking_links.html", booking=booking, papers=PAPERS)


def init_app(app: Flask) -> None:
    app.register_blueprint(blueprint)
    add_staff_navigation(app, "printables.list_printables", _l("Printables"))
    add_page_part(app, STAFF_BOOKING_PAGE, _booking_page_links)
