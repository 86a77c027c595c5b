"""A visitor's phone after scanning a portrait's code: the story in the language they scanned
(French, Spanish or English, switchable), the portrait at phone size, and big buttons to
donate and subscribe that count for the venue whose screen they scanned; light enough for a
weak connection; nothing at all for a portrait that may no longer be shown."""

from __future__ import annotations

import datetime as dt
import re
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, parse_qsl, urlsplit

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.clock import now_utc, today_local
from core.database import session_for
from kiosk.links import portrait_purpose
from kiosk.models import QrLink, ScanCount, Screen
from kiosk.screens import ScreenSettings, create_screen, default_screen, links_of_screen
from media.models import Portrait
from media.portraits import PortraitText, public_portraits
from tests.factories import A_PORTRAIT, days_from_today, hold, portrait_with_sizes

DONATE_URL = "https://dons.example.org/donner?campagne=printemps"
SIGNUP_URL = "https://infolettre.example.org/inscription"
BUDGET_BEFORE_THE_IMAGE = 150 * 1024
EN = {"Accept-Language": "en"}
# What the page says in each language (kiosk/wording.py), and the test portrait's caption.
SPOKEN = {
    "fr": ("Un portrait de l'exposition Ambulante", "Faire un don", A_PORTRAIT.caption_fr),
    "es": ("Un retrato de la exposición Ambulante", "Donar", A_PORTRAIT.caption_es),
    "en": ("A portrait from the Ambulante exhibition", "Donate", A_PORTRAIT.caption_en),
}


@pytest.fixture
def app_config() -> dict[str, Any]:
    return {"DONATE_URL": DONATE_URL, "SIGNUP_URL": SIGNUP_URL}


def venue_screen(session: Session, name: str = "Salle des métallos", **settings: Any) -> Screen:
    """A screen staff set up for a union's venue: its booking's reference names the scans."""
    held = hold(session, start=days_from_today(90), end=days_from_today(94))
    screen = create_screen(
        session,
        ScreenSettings(name=name, booking_id=held.booking.id, **settings),
        "staff@centre.example",
        now_utc(),
    )
    session.commit()
    return screen


def code_of(session: Session, screen: Screen, purpose: str) -> str:
    session.rollback()  # read what the app's requests committed since, not an old snapshot
    link = session.scalar(
        select(QrLink).where(QrLink.screen_id == screen.id, QrLink.purpose == purpose)
    )
    assert link is not None, f"{screen.slug} has no {purpose} link"
    return link.code


def scans_of(session: Session, code: str) -> int:
    session.rollback()
    total = session.scalar(
        select(ScanCount.scans)
        .join(QrLink)
        .where(QrLink.code == code, ScanCount.day == today_local())
    )
    return total or 0


class Page(HTMLParser):
    """What a phone reads on the page: its language, its links, and what it loads."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.lang = ""
        self.links: list[tuple[dict[str, str], str]] = []  # (attributes, text)
        self.loads: list[str] = []  # stylesheets, icons, scripts and images, by address
        self.html = html
        self._open: dict[str, str] | None = None
        self._text: list[str] = []
        self._all: list[str] = []
        self.feed(html)
        self.text = " ".join(self._all)  # what is read, character references undone

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {name: value or "" for name, value in attrs}
        if tag == "html":
            self.lang = found.get("lang", "")
        elif tag == "link" and found.get("rel") in ("stylesheet", "icon"):
            self.loads.append(found["href"])
        elif tag in ("script", "img") and found.get("src"):
            self.loads.append(found["src"])
        elif tag == "a":
            self._open, self._text = found, []

    def handle_data(self, data: str) -> None:
        self._all.append(data)
        if self._open is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._open is not None:
            self.links.append((self._open, "".join(self._text).strip()))
            self._open = None

    def link(self, text: str) -> str:
        return next(attributes["href"] for attributes, shown in self.links if shown == text)

    def language_links(self) -> dict[str, str]:
        return {a["hreflang"]: a["href"] for a, _text in self.links if "hreflang" in a}


def read(client: FlaskClient, url: str, **kwargs: Any) -> Page:
    response = client.get(url, **kwargs)
    assert response.status_code == 200, (url, response.status_code)
    return Page(response.get_data(as_text=True))


@pytest.fixture
def portrait(app, session) -> Portrait:
    return portrait_with_sizes(app, session)


@pytest.mark.parametrize("language", ["fr", "es", "en"])
def test_visitor_reads_the_story_in_the_language_they_scanned(client, session, portrait, language):
    screen = venue_screen(session)
    page = read(client, f"/p/{portrait.slug}?lang={language}&screen={screen.slug}")

    heading, donate, caption = SPOKEN[language]
    assert page.lang == language
    assert heading in page.text and caption in page.text
    assert page.link(donate).startswith("/q/")
    others = [SPOKEN[other][2] for other in SPOKEN if other != language]
    assert not any(other in page.text for other in others), "one story, in one language"
    assert "Montréal, Canada" in page.text
    credit = {"fr": "Photo : ", "es": "Foto: ", "en": "Photo: "}[language] + A_PORTRAIT.credit
    assert credit in page.text


def test_visitor_without_a_language_reads_the_sites_own(client, portrait):
    french = read(client, f"/p/{portrait.slug}")
    assert french.lang == "fr" and A_PORTRAIT.caption_fr in french.text
    english = read(client, f"/p/{portrait.slug}", headers=EN)
    assert english.lang == "en" and A_PORTRAIT.caption_en in english.text


def test_visitor_switches_language_and_stays_with_the_venues_screen(client, session, portrait):
    screen = venue_screen(session)
    page = read(client, f"/p/{portrait.slug}?lang=es&screen={screen.slug}&utm_medium=qr")

    switches = page.language_links()
    assert set(switches) == {"fr", "en"}
    for language, url in switches.items():
        query = parse_qs(urlsplit(url).query)
        assert query["screen"] == [screen.slug] and query["lang"] == [language]
        assert query["utm_medium"] == ["qr"]
        switched = read(client, url)
        assert switched.lang == language and SPOKEN[language][2] in switched.text
        assert switched.link(SPOKEN[language][1]) == page.link("Donar"), "same venue's link"
        assert "es" in switched.language_links()


def test_a_story_missing_in_the_asked_language_is_told_in_another(app, client, session):
    portrait = portrait_with_sizes(
        app,
        session,
        PortraitText(
            caption_fr="Seulement en français.",
            alt_fr="Un chariot",
            published=True,
            consent_given_on=dt.date(2020, 1, 1),
        ),
        colour="olive",
    )
    page = read(client, f"/p/{portrait.slug}?lang=es")
    assert page.lang == "fr" and "Seulement en français." in page.text
    assert page.language_links() == {}, "no switch to a language without the story"


@pytest.mark.parametrize("target", ["donate", "signup"])
def test_the_buttons_count_for_the_venue_and_lead_to_the_centres_page(
    client, session, portrait, target
):
    screen = venue_screen(session)
    reference = screen.booking.reference
    page = read(client, f"/p/{portrait.slug}?lang=en&screen={screen.slug}")
    label = {"donate": "Donate", "signup": "Subscribe to the newsletter"}[target]

    button = page.link(label)

    links = links_of_screen(session, screen, [portrait], now_utc())
    assert button == f"/q/{links[target].code}"
    response = client.get(button)
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    configured = urlsplit({"donate": DONATE_URL, "signup": SIGNUP_URL}[target])
    assert (location.scheme, location.netloc, location.path) == configured[:3]
    query = dict(parse_qsl(location.query))
    assert query["utm_medium"] == "qr" and query["utm_campaign"] == reference
    assert query["utm_source"] == "ambulante"
    if target == "donate":
        assert query["campagne"] == "printemps", "the centre's own query is kept"
    assert scans_of(session, links[target].code) == 1


def test_buttons_of_a_screen_without_a_booking_name_the_screen(client, session, portrait):
    screen = create_screen(session, ScreenSettings(name="Hall du CISO"), "staff@x", now_utc())
    session.commit()
    page = read(client, f"/p/{portrait.slug}?lang=fr&screen={screen.slug}")
    response = client.get(page.link("Faire un don"))
    assert dict(parse_qsl(urlsplit(response.headers["Location"]).query))["utm_campaign"] == (
        "hall-du-ciso"
    )


@pytest.mark.parametrize("named", ["", "?screen=", "?screen=nowhere", "?screen=ACCUEIL"])
def test_without_a_known_screen_the_buttons_count_for_the_default_one(
    client, session, portrait, named
):
    page = read(client, f"/p/{portrait.slug}{named}")
    accueil = default_screen(session)
    assert page.link("Faire un don") == f"/q/{code_of(session, accueil, 'donate')}"
    assert page.link("S'abonner à l'infolettre") == f"/q/{code_of(session, accueil, 'signup')}"


def test_a_screen_that_hides_the_donate_code_shows_no_donate_button(client, session, portrait):
    screen = venue_screen(session, target_ids=(2,))  # signup alone (migration 0006)
    page = read(client, f"/p/{portrait.slug}?lang=en&screen={screen.slug}")
    assert "Donate" not in page.text
    assert page.link("Subscribe to the newsletter").startswith("/q/")


def test_the_visitor_can_pass_the_story_on_with_its_own_code(client, session, portrait):
    screen = venue_screen(session, languages=("es", "fr", "en"))
    page = read(client, f"/p/{portrait.slug}?lang=en&screen={screen.slug}")
    own = code_of(session, screen, portrait_purpose(portrait))
    qr = [url for url in page.loads if url.endswith(".svg") and "/kiosk/qr/" in url]
    assert qr == [f"/kiosk/qr/{own}.svg"]
    assert client.get(qr[0]).mimetype == "image/svg+xml"

    # A friend scanning it reads the story in the screen's first language, for that venue.
    response = client.get(f"/q/{own}")
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert location.path == f"/p/{portrait.slug}"
    query = dict(parse_qsl(location.query))
    assert query["lang"] == "es" and query["screen"] == screen.slug
    assert query["utm_content"] == portrait.slug
    assert query["utm_campaign"] == screen.booking.reference
    friend = read(client, f"{location.path}?{location.query}")
    assert friend.lang == "es" and A_PORTRAIT.caption_es in friend.text


@pytest.mark.parametrize(
    "change",
    [
        {"consent_withdrawn_on": dt.date(2026, 1, 5)},
        {"consent_valid_until": dt.date(2021, 12, 31)},
        {"published": False},
    ],
    ids=["consent withdrawn", "consent expired", "unpublished"],
)
def test_a_portrait_that_may_not_be_shown_is_a_friendly_not_found(
    client, session, portrait, change
):
    shown = read(client, f"/p/{portrait.slug}?lang=es")
    images = re.findall(r"/media/[0-9a-f]{64}\.(?:jpg|webp)", shown.html)
    session.rollback()  # the page made the screen's links since this session last read
    for name, value in change.items():
        setattr(portrait, name, value)
    session.commit()

    response = client.get(f"/p/{portrait.slug}?lang=es")

    assert response.status_code == 404
    gone = Page(response.get_data(as_text=True))
    assert "Este retrato no se presenta" in gone.text and gone.lang == "es"
    assert A_PORTRAIT.caption_es not in gone.text
    assert not any(image in gone.html for image in images)
    assert gone.link("La exposición y la formación") == "/"


def test_an_unknown_portrait_is_a_friendly_not_found_in_the_sites_language(client):
    response = client.get("/p/p-00000000", headers=EN)
    assert response.status_code == 404
    page = Page(response.get_data(as_text=True))
    assert page.lang == "en"
    assert page.link("Donate to the centre") == DONATE_URL
    assert page.link("Subscribe to the newsletter") == SIGNUP_URL


def test_the_page_and_all_it_loads_before_the_image_weigh_under_150_kb(client, session, portrait):
    screen = venue_screen(session)
    response = client.get(f"/p/{portrait.slug}?lang=es&screen={screen.slug}")
    page = Page(response.get_data(as_text=True))
    before_the_image = [url for url in page.loads if not url.startswith("/media/")]
    assert any(url.endswith(".css") for url in before_the_image)
    assert any(url.endswith(".svg") for url in before_the_image)
    assert not any("htmx" in url or url.endswith("style.css") for url in before_the_image)

    total = len(response.get_data())
    for url in before_the_image:
        with client.get(url) as loaded:  # a static file: closed once read
            assert loaded.status_code == 200, url
            total += len(loaded.get_data())

    assert total < BUDGET_BEFORE_THE_IMAGE, f"{total} bytes before the image"


def test_the_phone_is_offered_phone_sized_images(client, portrait):
    html = client.get(f"/p/{portrait.slug}").get_data(as_text=True)
    sizes = set(re.findall(r'sizes="([^"]+)"', html))
    assert sizes == {"(max-width: 40rem) 100vw, 40rem"}
    assert re.findall(r" (\d+)w", html).count("480") == 2  # the phone's size, webp and jpeg


LONG = "x" * 20_000
ODD_QUERIES = [
    "lang=xx",
    "lang=",
    "lang=ES",
    "lang=es&lang=fr",
    "lang=%00",
    "screen=<script>alert(1)</script>",
    "screen=%00",
    "screen=accueil%0A",
    "screen=../../kiosk",
    f"screen={LONG}",
    f"lang={LONG}",
    f"utm_campaign={LONG}",
    "screen[]=accueil",
]


@pytest.mark.parametrize("query", ODD_QUERIES)
def test_odd_addresses_fall_back_to_the_defaults(client, session, portrait, query):
    response = client.get(f"/p/{portrait.slug}?{query}")
    assert response.status_code == 200
    page = Page(response.get_data(as_text=True))
    assert page.lang in ("fr", "es")
    assert "<script>alert" not in page.html and LONG not in page.html
    accueil = default_screen(session)
    assert page.link("Faire un don" if page.lang == "fr" else "Donar") == (
        f"/q/{code_of(session, accueil, 'donate')}"
    )


def test_odd_addresses_are_fine_on_postgresql_too(postgres_url, fresh_app):
    """PostgreSQL refuses a NUL in text: an odd screen name never reaches a query."""
    app = fresh_app(DATABASE_URL=postgres_url)
    with session_for(app) as session:
        slug = public_portraits(session, today_local())[0].slug
    client = app.test_client()
    for query in ODD_QUERIES:
        assert client.get(f"/p/{slug}?{query}").status_code == 200, query
    for code in ("%C3%A9" * 7, "%F0%9F%98%80abcdef", "abc%00def"):
        assert client.get(f"/q/{code}").status_code == 404, code
