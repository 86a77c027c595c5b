"""The visitor page a portrait's QR code opens on a phone: the portrait, its story in the
language the visitor scanned (French, Spanish or English), and buttons to donate and to
subscribe through the screen's own short links, so that they count for its venue."""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask import Blueprint, Flask, current_app, render_template, request, url_for
from sqlalchemy.orm import Session

from booking.errors import BookingNotFound
from booking.service import booking_by_reference
from core.clock import now_utc, today_local
from core.database import get_session
from core.i18n import current_language
from kiosk.links import Owner, address_of, links_of, portrait_purpose
from kiosk.models import Screen
from kiosk.printables import is_a_venue
from kiosk.screens import (
    SLUG,
    ScreenNotFound,
    default_screen,
    links_of_screen,
    screen_by_slug,
    targets_on,
)
from kiosk.targets import destinations_of, offered_now
from kiosk.wording import LANGUAGE_NAMES, visitor_words_in
from media.models import LANGUAGES, Portrait
from media.portraits import PortraitNotFound, public_portrait
from media.public import PORTRAIT_PAGE

blueprint = Blueprint("visitor", __name__)
# What the language links carry over from the address the QR code led to, within reason.
KEPT_PARAMETERS = ("screen", "venue", "utm_source", "utm_medium", "utm_campaign", "utm_content")
KEPT_VALUE_MAX_LENGTH = 80
# A booking's reference as booking.service makes it (AMB-2027-0042): anything else names
# no venue and never reaches a query.
REFERENCE = re.compile(r"AMB-\d{4}-\d{4,9}")


@dataclass(frozen=True)
class Button:
    label: str
    url: str


@blueprint.get(PORTRAIT_PAGE.replace("{slug}", "<slug>"))
def visitor_page(slug: str) -> str | tuple[str, int]:
    session = get_session()
    asked = request.args.get("lang", "")
    try:
        portrait = public_portrait(session, slug, today_local())
    except PortraitNotFound:
        return not_found_page("portrait", asked)
    language = caption_language(portrait, asked, current_language())
    words = visitor_words_in(language)
    owner = owner_named(session, request.args.get("screen", ""), request.args.get("venue", ""))
    buttons, share_qr = _links(session, owner, portrait, language)
    return render_template(
        "kiosk/visitor.html",
        portrait=portrait,
        language=language,
        words=words,
        caption=_caption(portrait, language),
        alt=_alt(portrait, language),
        place=", ".join(part for part in (portrait.place, portrait.country) if part),
        credit=words["photo"].format(credit=portrait.credit) if portrait.credit else "",
        buttons=buttons,
        share_qr=share_qr,
        other_languages=_other_languages(portrait, language),
    )


def caption_language(portrait: Portrait, asked: str, site_language: str) -> str:
    """The language asked for (the screen's, through its QR code), else the site's; and when
    the portrait has no caption in it, the first language it has one in."""
    wanted = asked if asked in LANGUAGES else site_language
    order = [wanted, *(language for language in LANGUAGES if language != wanted)]
    return next((language for language in order if _caption(portrait, language)), wanted)


def owner_named(session: Session, screen_slug: str, venue: str) -> Owner | None:
    """Whose codes the visitor came through: a venue's printed card (`venue`, its booking
    reference), a screen (`screen`), or the default screen when the address names none.
    A booking that is no venue (a training, a declined request) gets no codes of its own."""
    if REFERENCE.fullmatch(venue):
        try:
            booking = booking_by_reference(session, venue)
        except BookingNotFound:
            pass
        else:
            if is_a_venue(booking):
                return booking
    if SLUG.fullmatch(screen_slug):
        try:
            return screen_by_slug(session, screen_slug)
        except ScreenNotFound:
            pass
    try:
        return default_screen(session)
    except ScreenNotFound:
        return None


def _links(
    session: Session, owner: Owner | None, portrait: Portrait, language: str
) -> tuple[list[Button], str | None]:
    """A button per target the screen (or the venue's poster) offers, through its short
    links (so those scans count for its venue), and the QR image of this portrait's link."""
    destinations = destinations_of(current_app.config)
    if owner is None:  # no screen at all: straight to the centre's pages, uncounted
        targets = offered_now(session, destinations)
        return [
            Button(target.label(language), address_of(target, destinations)) for target in targets
        ], None
    if isinstance(owner, Screen):
        targets = targets_on(owner, destinations)
        links = links_of_screen(session, owner, [portrait], now_utc())
    else:
        targets = offered_now(session, destinations)
        links = links_of(session, owner, targets, [portrait], now_utc())
    buttons = [
        Button(target.label(language), url_for("shortlinks.scan", code=links[target.key].code))
        for target in targets
    ]
    own = links[portrait_purpose(portrait)]
    return buttons, url_for("kiosk.qr_image", code=own.code)


def _other_languages(portrait: Portrait, language: str) -> list[tuple[str, str, str]]:
    """(code, name, address) of each other language the story is told in."""
    kept = {
        name: request.args[name]
        for name in KEPT_PARAMETERS
        if 0 < len(request.args.get(name, "")) <= KEPT_VALUE_MAX_LENGTH
    }
    return [
        (
            other,
            LANGUAGE_NAMES[other],
            url_for("visitor.visitor_page", slug=portrait.slug, **kept, lang=other),
        )
        for other in LANGUAGES
        if other != language and _caption(portrait, other)
    ]


def _caption(portrait: Portrait, language: str) -> str:
    return getattr(portrait, f"caption_{language}")


def _alt(portrait: Portrait, language: str) -> str:
    order = [language, *(other for other in LANGUAGES if other != language)]
    return next((text for other in order if (text := getattr(portrait, f"alt_{other}"))), "")


def not_found_page(reason: str, asked_language: str = "") -> tuple[str, int]:
    """The friendly 404 a phone sees for a code or a portrait that leads nowhere now: the
    centre's pages, in the language asked for or the site's."""
    language = asked_language if asked_language in LANGUAGES else current_language()
    page = render_template(
        "kiosk/unknown_code.html",
        reason=reason,
        language=language,
        words=visitor_words_in(language),
    )
    return page, 404


def init_app(app: Flask) -> None:
    app.register_blueprint(blueprint)
