"""French first, English one click away, and no string left untranslated."""

from __future__ import annotations

import gettext
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
CATALOG = ROOT / "translations" / "fr" / "LC_MESSAGES"


def test_a_visitor_without_preference_reads_french(client):
    page = client.get("/").get_data(as_text=True)
    assert '<html lang="fr">' in page
    assert "Réserver l'exposition ou la formation" in page


def test_a_browser_asking_for_english_gets_english(client):
    page = client.get("/", headers={"Accept-Language": "en-CA,en;q=0.8"}).get_data(as_text=True)
    assert '<html lang="en">' in page
    assert "Book the exhibition or the training" in page


def test_the_language_switch_is_remembered(client):
    response = client.get("/lang/en?next=/offerings/expo-interieure")
    assert response.status_code == 303
    assert response.headers["Location"] == "/offerings/expo-interieure"
    page = client.get("/", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert "Book the exhibition or the training" in page
    client.get("/lang/fr")
    assert "Réserver" in client.get("/").get_data(as_text=True)


def test_the_language_switch_link_leads_back_to_the_same_page(client):
    page = client.get("/offerings/expo-interieure").get_data(as_text=True)
    assert 'href="/lang/en?next=/offerings/expo-interieure' in page


def test_every_message_in_the_code_has_a_french_translation():
    with open(CATALOG / "messages.po", "rb") as po_file:
        catalog = read_po(po_file, locale="fr")
    with open(ROOT / "babel.cfg") as mapping:  # the file the README's pybabel steps use
        method_map, options_map = parse_mapping_cfg(mapping)
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None}
    missing = []
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=keywords
    ):
        msgid = message[0] if isinstance(message, tuple) else message
        entry = catalog.get(msgid)
        if entry is None or not entry.string or entry.fuzzy:
            missing.append(msgid)
    assert not missing, f"untranslated (run the README's pybabel steps): {missing}"


def test_the_compiled_catalog_matches_its_source():
    with open(CATALOG / "messages.po", "rb") as po_file:
        catalog = read_po(po_file, locale="fr")
    with open(CATALOG / "messages.mo", "rb") as mo_file:
        compiled = gettext.GNUTranslations(mo_file)
    for entry in catalog:
        if entry.id and not entry.pluralizable:
            assert compiled.gettext(entry.id) == entry.string, entry.id
