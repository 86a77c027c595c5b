"""Staff print a venue's caption cards and poster: PDFs a home printer takes (Letter, or A4),
whose every QR code is the venue's own and leads, with the venue's campaign, where it says;
nothing printed for a portrait that may no longer be shown, nor for a training."""

from __future__ import annotations

import io
import math
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pypdfium2
import pytest
import zxingcpp
from pypdf import PdfReader
from sqlalchemy import select
from sqlalchemy.orm import Session

from booking.models import Booking
from core.clock import now_utc, today_local
from core.frame import page_parts
from kiosk import pdf_cards
from kiosk.links import portrait_purpose
from kiosk.models import PORTRAIT, QrLink
from kiosk.qr import QUIET_ZONE
from kiosk.screens import ScreenSettings, create_screen
from media.models import Portrait
from media.portraits import PortraitText, public_portraits
from tests.factories import A_PORTRAIT, days_from_today, hold, portrait_with_sizes

PUBLIC_URL = "https://ambulante.example.org"
DONATE_URL = "https://dons.example.org/donner"
SIGNUP_URL = "https://infolettre.example.org/inscription"
MEMBERSHIP_URL = "https://ciso.example.org/adhesion"
LETTER = (612.0, 792.0)
A4 = (595.28, 841.89)
CARDS_PER_PAGE = 2
EN = {"Accept-Language": "en"}  # the messages staff read, in English
RENDER_SCALE = 3  # 216 dpi: a card's code gets about 8 pixels a module
HOME_PRINTER_MARGIN = 13 * 72 / 25.4  # 13 mm, in points
SECOND = PortraitText(
    caption_fr="Un récupérateur au cœur du marché, l’après-midi.",
    caption_es="Un recolector en el corazón del mercado, por la tarde.",
    caption_en="A collector at the heart of the market, in the afternoon.",
    place="Ciudad Juárez",
    country="México",
    credit="Ñandú Peña",
    published=True,
    consent_given_on=A_PORTRAIT.consent_given_on,
)


@pytest.fixture
def app_config() -> dict[str, Any]:
    return {
        "PUBLIC_URL": PUBLIC_URL,
        "DONATE_URL": DONATE_URL,
        "SIGNUP_URL": SIGNUP_URL,
        "MEMBERSHIP_URL": MEMBERSHIP_URL,
    }


@pytest.fixture
def venue(session: Session) -> Booking:
    """A union's exhibition booking: the venue the cards and the poster are printed for."""
    return hold(session, start=days_from_today(120), end=days_from_today(124)).booking


@pytest.fixture
def portraits(app, session: Session) -> list[Portrait]:
    """Two real portraits first in the library, then the demo ones."""
    first = portrait_with_sizes(app, session)
    second = portrait_with_sizes(app, session, SECOND, width=1200, height=1800, colour="navy")
    second.position = 1
    session.commit()
    return [first, second]


def cards_url(booking: Booking, paper: str | None = None) -> str:
    query = f"?paper={paper}" if paper is not None else ""
    return f"/staff/bookings/{booking.id}/caption-cards.pdf{query}"


def poster_url(booking: Booking, paper: str | None = None) -> str:
    query = f"?paper={paper}" if paper is not None else ""
    return f"/staff/bookings/{booking.id}/poster.pdf{query}"


def download(client, url: str) -> bytes:
    response = client.get(url)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.mimetype == "application/pdf"
    return response.data


def page_sizes(pdf: bytes) -> list[tuple[float, float]]:
    return [
        (round(float(page.mediabox.width), 2), round(float(page.mediabox.height), 2))
        for page in PdfReader(io.BytesIO(pdf)).pages
    ]


def text_of(pdf: bytes) -> str:
    """The text a reader copies out of the PDF, each run of spaces and line breaks one space
    (a caption wraps over lines)."""
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    return " ".join(text.split())


def codes_on_pages(pdf: bytes) -> list[list[str]]:
    """What a phone reads from each printed page: every QR code found on it, rasterized, each
    with its quiet zone."""
    document = pypdfium2.PdfDocument(pdf)
    found = []
    for page in document:
        image = page.render(scale=RENDER_SCALE).to_pil().convert("L")
        page.close()
        barcodes = [
            barcode
            for barcode in zxingcpp.read_barcodes(image)
            if barcode.format == zxingcpp.BarcodeFormat.QRCode
        ]
        for barcode in barcodes:
            assert_quiet_zone(image, barcode)
        found.append([barcode.text for barcode in barcodes])
    document.close()
    return found


def assert_quiet_zone(image: Any, barcode: Any) -> None:
    """Four modules of white all around the code, as the standard asks: nothing printed
    beside it (text, a photo, the cut line) confuses a phone's reader."""
    corners = barcode.position
    left = min(corners.top_left.x, corners.bottom_left.x)
    right = max(corners.top_right.x, corners.bottom_right.x)
    top = min(corners.top_left.y, corners.top_right.y)
    bottom = max(corners.bottom_left.y, corners.bottom_right.y)
    modules = 17 + 4 * int(barcode.extra["Version"])
    module = (right - left) / modules
    inner, outer = module, QUIET_ZONE * module  # the first module's width: antialiased edge
    ring = image.crop(
        (
            round(left - outer),
            round(top - outer),
            round(right + outer),
            round(bottom + outer),
        )
    )
    inside = (round(outer - inner), round(outer - inner))
    ring.paste(255, (*inside, ring.width - inside[0], ring.height - inside[1]))
    assert ring.getextrema()[0] >= 250, f"no quiet zone around {barcode.text}"


def venue_codes(session: Session, booking: Booking) -> dict[str, str]:
    """The venue's own short links, by purpose, as the database holds them."""
    session.rollback()  # see what the app's requests committed
    links = session.scalars(select(QrLink).where(QrLink.booking_id == booking.id))
    return {link.purpose: f"{PUBLIC_URL}/q/{link.code}" for link in links}


def scan(client, url: str) -> tuple[str, dict[str, list[str]]]:
    """A phone opening a printed code: where it is sent, and the campaign it carries."""
    assert url.startswith(PUBLIC_URL + "/q/")
    response = client.get(urlsplit(url).path)
    assert response.status_code == 302
    location = response.headers["Location"]
    return location.split("?", 1)[0], parse_qs(urlsplit(location).query)


def test_staff_print_a_caption_card_for_each_portrait_the_venue_shows(
    staff_client, session, venue, portraits
):
    shown = public_portraits(session, today_local())
    pdf = download(staff_client, cards_url(venue))

    assert page_sizes(pdf) == [LETTER] * math.ceil(len(shown) / CARDS_PER_PAGE)
    text = text_of(pdf)
    for portrait in shown:
        for caption in (portrait.caption_fr, portrait.caption_es, portrait.caption_en):
            assert " ".join(caption.split()) in text
    assert "Photo : Photographe de test" in text and "Photo : Ñandú Peña" in text
    assert "Montréal, Canada" in text and "Ciudad Juárez, México" in text
    # French typography the font must hold, beyond Latin-1.
    assert "au cœur du marché, l’après-midi" in text
    # The photos are the only pictures: the codes are drawn as shapes, sharp at any size.
    reader = PdfReader(io.BytesIO(pdf))
    assert [len(page.images) for page in reader.pages] == [len(reader.pages[0].images)] * len(
        reader.pages
    )
    assert sum(len(page.images) for page in reader.pages) == len(shown)


def test_each_cards_code_is_the_venues_own_and_opens_the_portrait_for_that_venue(
    staff_client, session, venue, portraits
):
    shown = public_portraits(session, today_local())
    pdf = download(staff_client, cards_url(venue))

    read = codes_on_pages(pdf)
    owned = venue_codes(session, venue)
    expected = [owned[portrait_purpose(portrait)] for portrait in shown]
    # Each sheet carries the codes of its two cards, and nothing else.
    for number, page_codes in enumerate(read):
        on_page = expected[number * CARDS_PER_PAGE : (number + 1) * CARDS_PER_PAGE]
        assert sorted(page_codes) == sorted(on_page)
    for portrait, url in zip(shown, expected, strict=True):
        where, campaign = scan(staff_client, url)
        assert where == f"{PUBLIC_URL}/p/{portrait.slug}"
        assert campaign["utm_campaign"] == [venue.reference]
        assert campaign["venue"] == [venue.reference]
        assert campaign["utm_content"] == [portrait.slug]


def test_a_card_reprinted_keeps_its_code(staff_client, session, venue, portraits):
    first = codes_on_pages(download(staff_client, cards_url(venue)))[0]
    again = codes_on_pages(download(staff_client, cards_url(venue, "a4")))[0]
    assert sorted(first) == sorted(again)


def test_staff_print_the_venue_poster_with_a_large_code_per_target(staff_client, session, venue):
    pdf = download(staff_client, poster_url(venue))

    assert page_sizes(pdf) == [LETTER]
    text = text_of(pdf)
    offering = venue.offering
    assert offering.title_fr in text and offering.title_en in text
    assert "Salle des métallos, Montréal" in text
    for label in ("Faire un don", "Donar", "Donate", "Devenir membre", "Become a member"):
        assert label in text
    assert "Scannez avec votre téléphone" in text and "Scan with your phone" in text
    assert len(PdfReader(io.BytesIO(pdf)).pages[0].images) == 0  # the codes are vector shapes

    [read] = codes_on_pages(pdf)
    owned = venue_codes(session, venue)
    assert sorted(read) == sorted(owned[key] for key in ("donate", "signup", "membership"))
    for key, address in (
        ("donate", DONATE_URL),
        ("signup", SIGNUP_URL),
        ("membership", MEMBERSHIP_URL),
    ):
        where, campaign = scan(staff_client, owned[key])
        assert where == address
        assert campaign["utm_campaign"] == [venue.reference]
        assert campaign["utm_medium"] == ["qr"]


def test_the_poster_leaves_out_the_membership_code_while_its_address_is_unset(
    app, staff_client, session, venue
):
    app.config["MEMBERSHIP_URL"] = ""
    pdf = download(staff_client, poster_url(venue))

    [read] = codes_on_pages(pdf)
    owned = venue_codes(session, venue)
    assert sorted(read) == sorted(owned[key] for key in ("donate", "signup"))
    assert "Become a member" not in text_of(pdf)


def test_a_long_venue_name_leaves_the_codes_their_room(staff_client, session, venue):
    venue.venue = "Grande salle du conseil régional des syndicats " * 4
    venue.city = "Saint-Jean-sur-Richelieu"
    session.commit()
    pdf = download(staff_client, poster_url(venue))

    assert page_sizes(pdf) == [LETTER]
    assert "Saint-Jean-sur-Richelieu" in text_of(pdf)
    [read] = codes_on_pages(pdf)
    owned = venue_codes(session, venue)
    assert sorted(read) == sorted(owned[key] for key in ("donate", "signup", "membership"))


@pytest.mark.parametrize("paper", ["a4", "A4"])
def test_staff_may_print_on_a4(staff_client, session, venue, portraits, paper):
    shown = public_portraits(session, today_local())
    cards = download(staff_client, cards_url(venue, paper))
    assert page_sizes(cards) == [A4] * math.ceil(len(shown) / CARDS_PER_PAGE)
    assert page_sizes(download(staff_client, poster_url(venue, paper))) == [A4]


def test_letter_is_the_default_and_may_be_asked_for(staff_client, venue):
    assert page_sizes(download(staff_client, poster_url(venue, "letter"))) == [LETTER]
    assert page_sizes(download(staff_client, poster_url(venue))) == [LETTER]


@pytest.mark.parametrize("paper", ["legal", "", "a5", "letter%00", "a" * 5000])
def test_an_unknown_paper_size_is_refused_with_a_message(staff_client, session, venue, paper):
    for url in (cards_url(venue, paper), poster_url(venue, paper)):
        response = staff_client.get(url, headers=EN)
        assert response.status_code == 400
        assert "letter" in response.get_data(as_text=True)
    assert venue_codes(session, venue) == {}  # nothing was made


def test_a_withdrawn_portrait_is_not_on_the_cards(staff_client, session, venue, portraits):
    withdrawn = portraits[1]
    withdrawn.consent_withdrawn_on = today_local()
    session.commit()
    shown = public_portraits(session, today_local())

    pdf = download(staff_client, cards_url(venue))
    assert len(page_sizes(pdf)) == math.ceil(len(shown) / CARDS_PER_PAGE)
    text = text_of(pdf)
    assert SECOND.caption_en not in text and "Ñandú" not in text
    assert A_PORTRAIT.caption_en in text
    assert portrait_purpose(withdrawn) not in venue_codes(session, venue)


def test_a_venue_with_its_own_screen_prints_the_portraits_that_screen_plays(
    staff_client, session, venue, portraits
):
    create_screen(
        session,
        ScreenSettings(
            name="Salle des métallos", booking_id=venue.id, portrait_ids=(portraits[1].id,)
        ),
        "staff@centre.example",
        now_utc(),
    )
    session.commit()

    pdf = download(staff_client, cards_url(venue))
    assert page_sizes(pdf) == [LETTER]
    text = text_of(pdf)
    assert SECOND.caption_en in text and A_PORTRAIT.caption_en not in text
    assert codes_on_pages(pdf) == [[venue_codes(session, venue)[portrait_purpose(portraits[1])]]]


def test_a_long_caption_is_fitted_on_its_card(staff_client, session, venue, portraits):
    portraits[0].caption_fr = "Une histoire longue à raconter. " * 120
    session.commit()
    shown = public_portraits(session, today_local())

    pdf = download(staff_client, cards_url(venue))
    assert len(page_sizes(pdf)) == math.ceil(len(shown) / CARDS_PER_PAGE)
    text = text_of(pdf)
    assert "Une histoire longue à raconter." in text and "…" in text
    assert A_PORTRAIT.caption_en in text  # the other languages keep their place
    first_page = codes_on_pages(pdf)[0]
    assert len(first_page) == CARDS_PER_PAGE


def test_a_card_whose_photo_file_is_missing_still_prints(app, staff_client, session, venue):
    portrait = portrait_with_sizes(app, session)
    for rendition in portrait.renditions:
        path = app.config["DATA_DIR"] / "media" / rendition.sha256[:2]
        for file in path.glob(f"{rendition.sha256}.*"):
            file.unlink()

    pdf = download(staff_client, cards_url(venue))
    assert A_PORTRAIT.caption_en in text_of(pdf)
    assert venue_codes(session, venue)[portrait_purpose(portrait)] in codes_on_pages(pdf)[0]


def test_without_the_unicode_font_the_cards_still_print_in_french_and_spanish(
    staff_client, session, venue, portraits, monkeypatch
):
    monkeypatch.setattr(pdf_cards, "FONT_DIRS", [])
    pdf = download(staff_client, cards_url(venue))

    text = text_of(pdf)
    assert "au cœur du marché, l’après-midi" in text and "Ñandú Peña" in text
    assert venue_codes(session, venue)[portrait_purpose(portraits[0])] in codes_on_pages(pdf)[0]


def test_characters_a_font_lacks_are_replaced_not_dropped_into_a_crash():
    assert pdf_cards.printable("Łódź ŏ 漢\x00\x07\nfin", None) == "?ódz o ?\nfin"
    assert pdf_cards.printable("cœur’s “ok” …", None) == "cœur’s “ok” …"


def test_a_venue_whose_portraits_may_all_no_longer_be_shown_gets_a_message(
    staff_client, session, venue
):
    for portrait in session.scalars(select(Portrait)):
        portrait.published = False
    session.commit()

    response = staff_client.get(cards_url(venue), headers=EN)
    assert response.status_code == 409
    assert "no cards to print" in response.get_data(as_text=True)
    assert page_sizes(download(staff_client, poster_url(venue))) == [LETTER]


def test_a_training_booking_has_no_printables(staff_client, session):
    training = hold(
        session,
        offering="formation-bd-textile",
        start=days_from_today(130),
        end=days_from_today(130),
    ).booking
    for url in (cards_url(training), poster_url(training)):
        response = staff_client.get(url, headers=EN)
        assert response.status_code == 404
        assert "training" in response.get_data(as_text=True)
    assert venue_codes(session, training) == {}


@pytest.mark.parametrize("booking_id", [987654, 2**31, 10**30])
def test_an_unknown_booking_has_no_printables(staff_client, booking_id):
    for kind in ("caption-cards", "poster"):
        assert staff_client.get(f"/staff/bookings/{booking_id}/{kind}.pdf").status_code == 404


def test_a_cancelled_venue_has_no_printables(staff_client, session, venue):
    venue.status = "cancelled"
    session.commit()
    assert staff_client.get(cards_url(venue)).status_code == 404
    assert staff_client.get(poster_url(venue)).status_code == 404


def test_nobody_signed_out_gets_a_venues_printables(client, session, venue):
    for url in (cards_url(venue), poster_url(venue), "/staff/printables"):
        response = client.get(url)
        assert response.status_code == 302
        assert urlsplit(response.headers["Location"]).path == "/staff/login"
    assert venue_codes(session, venue) == {}


def test_staff_find_each_venues_printables_on_one_page(staff_client, session, venue):
    training = hold(
        session,
        offering="formation-bd-textile",
        start=days_from_today(140),
        end=days_from_today(140),
    ).booking
    shown = len(public_portraits(session, today_local()))

    page = staff_client.get("/staff/printables", headers=EN).get_data(as_text=True)
    assert 'href="/staff/printables"' in page  # in the staff navigation
    assert venue.reference in page and training.reference not in page
    for url in (
        cards_url(venue, "letter"),
        cards_url(venue, "a4"),
        poster_url(venue, "letter"),
        poster_url(venue, "a4"),
    ):
        assert f'href="{url}"' in page
    sheets = math.ceil(shown / CARDS_PER_PAGE)
    assert f"Cards: {shown} · sheets: {sheets}" in page


def test_printed_codes_of_a_portrait_are_not_the_screens(staff_client, session, venue, portraits):
    download(staff_client, cards_url(venue))
    session.rollback()
    links = session.scalars(select(QrLink).where(QrLink.target == PORTRAIT)).all()
    assert links and all(link.booking_id == venue.id and link.screen_id is None for link in links)


def test_a_venues_booking_page_offers_its_printables(app, staff_client, session, venue):
    training = hold(
        session,
        offering="formation-bd-textile",
        start=days_from_today(150),
        end=days_from_today(150),
    ).booking
    page = staff_client.get(f"/staff/bookings/{venue.reference}", headers=EN)
    assert f'href="{cards_url(venue, "a4")}"' in page.get_data(as_text=True)
    assert f'href="{poster_url(venue, "letter")}"' in page.get_data(as_text=True)
    with app.test_request_context("/staff/", headers=EN):
        assert str(page_parts("staff_booking_page", booking=training)) == ""


@pytest.mark.parametrize("paper", ["letter", "a4"])
def test_nothing_is_printed_where_a_home_printer_cannot_reach(
    staff_client, venue, portraits, paper
):
    """A home printer leaves the outer few millimetres of a sheet blank: nothing is there."""
    for url in (cards_url(venue, paper), poster_url(venue, paper)):
        document = pypdfium2.PdfDocument(download(staff_client, url))
        for page in document:
            image = page.render(scale=1).to_pil().convert("L")
            page.close()
            width, height = image.size
            edge = math.floor(HOME_PRINTER_MARGIN)  # one pixel a point at scale 1
            strips = (
                (0, 0, width, edge),
                (0, height - edge, width, height),
                (0, 0, edge, height),
                (width - edge, 0, width, height),
            )
            for strip in strips:
                assert image.crop(strip).getextrema()[0] >= 250, (url, strip)
        document.close()
