"""The frame every page shares reads right in French and English: dates with "1er", a no-break
space before a French colon, the centre's name and contact on every page, and on the home and
offering pages what a booking includes, whom to ask about fees, delivery and insurance."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from flask import render_template_string
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from core.centre import tel_link
from core.i18n import format_day, lazy_day, with_colon

ROOT = Path(__file__).resolve().parent.parent
CATALOG = ROOT / "translations" / "fr" / "LC_MESSAGES" / "messages.po"
EN = {"Accept-Language": "en"}
FR = {"Accept-Language": "fr"}
NBSP = "\u00a0"
FIRST_OF_AUGUST = dt.date(2027, 8, 1)  # a Sunday
NEW_YEAR = dt.date(2027, 1, 1)  # a Friday


def rendered(app, source: str, language: str, **context) -> str:
    with app.test_request_context(headers={"Accept-Language": language}):
        return render_template_string(source, **context)


@pytest.mark.parametrize(
    "form, day, french",
    [
        ("long", FIRST_OF_AUGUST, "1er août 2027"),
        ("full", NEW_YEAR, "vendredi 1er janvier 2027"),
        ("full", FIRST_OF_AUGUST, "dimanche 1er août 2027"),
        ("medium", NEW_YEAR, "1er janv. 2027"),
        ("d MMMM", FIRST_OF_AUGUST, "1er août"),
        ("long", dt.date(2027, 8, 2), "2 août 2027"),
        ("long", dt.date(2027, 8, 11), "11 août 2027"),
        ("long", dt.date(2027, 8, 21), "21 août 2027"),
        ("short", FIRST_OF_AUGUST, "01/08/2027"),
        ("LLLL yyyy", FIRST_OF_AUGUST, "août 2027"),
    ],
)
def test_union_reads_french_dates_with_1er_on_the_first_of_the_month(app, form, day, french):
    page = rendered(app, "{{ day|dateformat(form) }}", "fr", day=day, form=form)

    assert page == french


def test_english_dates_are_left_as_english_writes_them(app):
    page = rendered(app, "{{ day|dateformat('long') }}", "en", day=FIRST_OF_AUGUST)

    assert page == "August 1, 2027"


def test_mail_and_services_write_the_same_dates_as_the_pages(app):
    with app.app_context():
        with force_locale("fr"):
            in_french = format_day(NEW_YEAR, "full")
            error = str(_l("Starts on %(date)s.", date=lazy_day(FIRST_OF_AUGUST)))
        with force_locale("en"):
            in_english = format_day(NEW_YEAR, "full")
    assert in_french == "vendredi 1er janvier 2027"
    assert error == "Starts on 1er août 2027."
    assert in_english == "Friday, January 1, 2027"
    # A union's own language, without switching the whole request to it.
    assert format_day(FIRST_OF_AUGUST, "long", "fr") == "1er août 2027"
    assert format_day(FIRST_OF_AUGUST, "long", "en") == "August 1, 2027"


def test_a_french_label_keeps_its_colon_on_its_line(app):
    assert rendered(app, "{{ 'Lieu'|colon }} X", "fr") == f"Lieu{NBSP}: X"
    assert rendered(app, "{{ 'Venue'|colon }} X", "en") == "Venue: X"
    # Escaped on a page, left alone in a plain-text email.
    assert rendered(app, "{{ '<b>'|colon }}", "fr") == f"&lt;b&gt;{NBSP}:"
    plain = "{% autoescape false %}{{ label|colon }}{% endautoescape %}"
    assert rendered(app, plain, "fr", label="L'équipe") == f"L'équipe{NBSP}:"
    assert with_colon("Statut", "fr") == f"Statut{NBSP}:"


@pytest.mark.parametrize(
    "written, link",
    [
        ("514-383-2266 poste 225", "tel:+15143832266,225"),
        ("(514) 383-2266 p. 225", "tel:+15143832266,225"),
        ("514 383-2266 ext. 9", "tel:+15143832266,9"),
        ("+1 514 383 2266", "tel:+15143832266"),
        ("514-383-2266", "tel:+15143832266"),
    ],
)
def test_a_phone_tapped_on_a_phone_dials_the_centre_and_its_extension(written, link):
    assert tel_link(written) == link


@pytest.mark.parametrize("headers", [FR, EN], ids=["fr", "en"])
def test_every_page_says_whose_site_it_is_and_how_to_reach_the_centre(client, headers):
    for path in ("/", "/offerings/expo-exterieure", "/book/formation-bd-textile"):
        page = client.get(path, headers=headers).get_data(as_text=True)

        assert "Centre international de solidarité ouvrière (CISO)" in page
        assert 'href="mailto:ciso@ciso.qc.ca"' in page
        assert '<a href="tel:+15143832266,225">514-383-2266 poste 225</a>' in page
        assert "solidarité ouvrière internationale" not in page


def test_the_tagline_names_the_centre(client):
    french = client.get("/", headers=FR).get_data(as_text=True)
    english = client.get("/", headers=EN).get_data(as_text=True)

    assert re.search(r'class="tagline">[^<]*du CISO<', french)
    assert re.search(r'class="tagline">[^<]*CISO<', english)


@pytest.mark.parametrize("app_config", [{"CENTRE_ADDRESS": "1601, av. De Lorimier"}])
def test_the_footer_shows_the_street_address_once_it_is_set(client, app_config):
    page = client.get("/", headers=EN).get_data(as_text=True)

    assert "1601, av. De Lorimier" in page


def test_the_footer_invents_no_street_address(client):
    footer = client.get("/", headers=EN).get_data(as_text=True).split("<footer")[1]

    assert re.findall(r"<span>([^<:]*)</span>", footer) == []


def test_home_page_shows_what_each_offering_includes_fees_and_a_faq(client):
    page = client.get("/", headers=EN).get_data(as_text=True)
    about = page.split('id="about-heading"')[1]

    assert "packed in crates" in about  # the indoor set
    assert "weatherproof panels" in about  # the outdoor set
    assert "trainers" in about and "the comic" in about  # the training
    fees = about.split('class="fees"')[1].split("</p>")[0]
    assert "Contact us for fees" in fees
    assert 'href="mailto:ciso@ciso.qc.ca"' in fees and 'href="tel:' in fees
    questions = re.findall(r"<summary>([^<]+)</summary>", about)
    assert "How does the exhibition reach our venue?" in questions
    assert "What about insurance?" in questions
    assert "What do we need for the training?" in questions


def test_home_page_shows_portraits_before_the_offerings(client):
    page = client.get("/", headers=EN).get_data(as_text=True)

    assert page.index("portrait-strip") < page.index('class="offerings"')


def test_an_offering_page_only_answers_for_that_offering(client):
    training = client.get("/offerings/formation-bd-textile", headers=EN).get_data(as_text=True)
    outdoor = client.get("/offerings/expo-exterieure", headers=EN).get_data(as_text=True)

    assert "Our trainers lead the day" in training
    assert "insurance" not in training and "packed in crates" not in training
    assert "weatherproof panels" in outdoor and "What about insurance?" in outdoor
    assert "Our trainers" not in outdoor and "packed in crates" not in outdoor


def test_french_pages_put_a_no_break_space_before_each_colon(client):
    page = client.get("/", headers=FR).get_data(as_text=True)
    # The frame's own words: the header, what a booking includes, the footer (the offerings'
    # titles and descriptions are the staff's).
    ours = re.findall(
        r"<header.*?</header>|<section class=\"about\".*?</section>|<footer.*?</footer>", page, re.S
    )
    text = re.sub(r"<dt>.*?</dt>|<[^>]+>", "", "".join(ours))

    assert f"Courriel{NBSP}:" in text and f"Téléphone{NBSP}:" in text
    assert f"Pour connaître les tarifs, communiquez avec nous{NBSP}:" in text
    # No colon after a word or after an ordinary space that could start a line.
    assert re.findall(r"\w.{0,20}(?:\w| ):(?!//)", text) == []


def _french_colons_without_a_no_break_space() -> list[str]:
    with open(CATALOG, "rb") as po_file:
        catalog = read_po(po_file, locale="fr")
    wrong = []
    for entry in catalog:
        if not entry.id:
            continue
        strings = entry.string if isinstance(entry.string, tuple) else (entry.string,)
        for text in strings:
            # A header name or a URL keeps its colon tight: "Content-Type: application/json".
            text = re.sub(r"Content-Type: |https?://", "", text or "")
            if re.search(r"(?<![\u00a0\u202f]):(?=\s|$)", text):
                wrong.append(text)
    return wrong


def test_french_translations_put_a_no_break_space_before_each_colon():
    wrong = _french_colons_without_a_no_break_space()

    assert wrong == [], "write ' :' with U+00A0 before the colon in messages.po"


def test_a_moment_is_dated_by_its_day_in_montreal(app):
    late_evening = dt.datetime(2027, 8, 1, 3, 30, tzinfo=dt.UTC)  # 23:30 on July 31 in Montréal
    noon = dt.datetime(2027, 8, 1, 16, 0, tzinfo=dt.UTC)

    assert rendered(app, "{{ t|dateformat('long') }}", "fr", t=late_evening) == "31 juillet 2027"
    assert rendered(app, "{{ t|dateformat('long') }}", "fr", t=noon) == "1er août 2027"
    assert format_day(noon.replace(tzinfo=None), "long", "fr") == "1er août 2027"  # SQLite's


def test_every_date_in_words_is_written_by_format_day():
    """One home for the rule: Flask-Babel's format_date would write "1 août" again."""
    calls = [
        f"{path.relative_to(ROOT)}:{number}"
        for package in ("core", "booking", "media", "kiosk")
        for path in sorted((ROOT / package).rglob("*.py"))
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if re.search(r"\bformat_date\(", line) and path.name != "i18n.py"
    ]

    assert calls == [], "use core.i18n.format_day (or lazy_day) instead"
