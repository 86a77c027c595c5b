"""Administrators keep the list of pages QR codes lead to: they add one (a petition) with its
labels in French, Spanish and English, and a screen that ticks it shows its code, which leads
there; they switch one off, and it leaves every screen; they give a built-in one an address
of its own. The dues form is left out until it has an address. Every bad input is refused
with a message on its field; plain staff read the list but change nothing; the log says who
did what."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from sqlalchemy import func, select

from core.staff.models import AuditEvent
from kiosk.models import ScanTarget, Screen
from kiosk.targets import fields_of
from tests.factories import says_on_its_field, screen_form, staff_post

EN = {"Accept-Language": "en"}
FR = {"Accept-Language": "fr"}
LIST = "/staff/targets"
NEW = "/staff/targets/new"
PETITION_URL = "https://petition.example.org/2027?source=expo"
SIGNUP_URL = "https://infolettre.example.org/inscription"
SCREEN = "salle-des-metallos"  # the screen screen_form() makes
DEFAULT_SCREEN = "accueil"  # what /kiosk/ plays; it shows every starting target's code
DONATE_ID, SIGNUP_ID, MEMBERSHIP_ID = 1, 2, 3  # the starting targets (migration 0006)
PETITION_LABELS = {
    "fr": "Signer la pétition 2027",
    "es": "Firmar la petición 2027",
    "en": "Sign the 2027 petition",
}


@pytest.fixture
def app_config() -> dict[str, Any]:
    return {"PUBLIC_URL": "https://ambulante.example.org", "SIGNUP_URL": SIGNUP_URL}


def target_form(**overrides: Any) -> dict[str, str]:
    """The target form as a browser posts it; None leaves a field out (an unticked box)."""
    data: dict[str, Any] = {
        "name": "Pétition 2027",
        **{f"label_{language}": label for language, label in PETITION_LABELS.items()},
        "url": PETITION_URL,
        "active": "y",
    }
    data.update(overrides)
    return {name: value for name, value in data.items() if value is not None}


def _target(session, key: str) -> ScanTarget | None:  # type: ignore[no-untyped-def]
    session.commit()  # leave the snapshot: see what the requests wrote since
    return session.scalar(select(ScanTarget).where(ScanTarget.key == key))


def _count(session, model) -> int:  # type: ignore[no-untyped-def]
    session.commit()
    return session.scalar(select(func.count()).select_from(model))


def _add_petition(client, **overrides: Any) -> int:  # type: ignore[no-untyped-def]
    response = staff_post(client, NEW, target_form(**overrides))
    assert response.status_code == 303, response.get_data(as_text=True)
    return int(response.headers["Location"].rsplit("#target-", 1)[1])


def _bundle(client, slug: str = SCREEN) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    response = client.get(f"/kiosk/{slug}/bundle.json")
    assert response.status_code == 200
    return response.get_json()


def _codes(client, slug: str = SCREEN) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """The codes a screen shows, by target key: their /q/ code."""
    return {
        code["target"]: code["url"].rsplit("/q/", 1)[1] for code in _bundle(client, slug)["codes"]
    }


def _row(page: str, target_id: int) -> str:
    found = re.search(rf'<tr id="target-{target_id}">(.*?)</tr>', page, re.S)
    assert found, f"no row for target {target_id}"
    return " ".join(found[1].split()).replace("&#39;", "'")


def _lands_on(client, code: str) -> tuple[str, list[tuple[str, str]]]:  # type: ignore[no-untyped-def]
    """Where a phone scanning the code is sent: the address, and its query."""
    response = client.get(f"/q/{code}")
    assert response.status_code == 302
    location = response.headers["Location"]
    parts = urlsplit(location)
    return f"{parts.scheme}://{parts.netloc}{parts.path}", parse_qsl(parts.query)


def _default_screen_id(session) -> int:  # type: ignore[no-untyped-def]
    session.commit()
    return session.scalar(select(Screen.id).where(Screen.slug == DEFAULT_SCREEN))


def _leads_nowhere(client, code: str) -> None:  # type: ignore[no-untyped-def]
    response = client.get(f"/q/{code}", headers=EN)
    assert response.status_code == 404
    assert "This code leads nowhere now" in response.get_data(as_text=True)


def test_an_administrator_adds_a_petition_and_a_screen_that_ticks_it_shows_its_code(
    admin_client, session
):
    response = staff_post(admin_client, NEW, target_form(), headers=EN)

    assert response.status_code == 303
    petition = _target(session, "petition-2027")
    assert petition is not None
    listing = admin_client.get(response.headers["Location"], headers=EN).get_data(as_text=True)
    assert (
        "QR target Sign the 2027 petition added: tick it on the screens that should show its code."
        in listing
    )
    row = _row(listing, petition.id)
    assert "petition-2027" in row and PETITION_URL.replace("&", "&amp;") in row
    assert all(label in row for label in PETITION_LABELS.values())
    assert "offered" in row and row.endswith("<td>0</td>")  # no screen shows it yet

    # The screens form offers it as a checkbox; a screen that ticks it shows its code.
    screens_form = admin_client.get("/staff/screens/new", headers=EN).get_data(as_text=True)
    assert re.search(
        rf'<input type="checkbox" name="target_ids" value="{petition.id}" checked>\s*'
        r"Sign the 2027 petition",
        screens_form,
    )
    ticked = [str(DONATE_ID), str(petition.id)]
    assert (
        staff_post(admin_client, "/staff/screens/new", screen_form(target_ids=ticked)).status_code
        == 303
    )

    bundle = _bundle(admin_client)
    assert [code["target"] for code in bundle["codes"]] == ["donate", "petition-2027"]
    for language, label in PETITION_LABELS.items():
        assert bundle["words"][language]["petition-2027"] == label
    address, query = _lands_on(admin_client, _codes(admin_client)["petition-2027"])
    assert address == "https://petition.example.org/2027"
    assert query == [
        ("source", "expo"),
        ("utm_source", "ambulante"),
        ("utm_medium", "qr"),
        ("utm_campaign", SCREEN),
    ]
    # A screen that did not tick it (the default one, set up before it existed) does not.
    assert "petition-2027" not in _codes(admin_client, DEFAULT_SCREEN)
    assert _row(admin_client.get(LIST, headers=EN).get_data(as_text=True), petition.id).endswith(
        "<td>1</td>"
    )


def test_a_target_switched_off_leaves_every_screen_and_its_code_leads_nowhere(
    admin_client, session
):
    petition_id = _add_petition(admin_client)
    every_target = [str(DONATE_ID), str(SIGNUP_ID), str(petition_id)]
    staff_post(admin_client, "/staff/screens/new", screen_form(target_ids=every_target))
    staff_post(
        admin_client,
        f"/staff/screens/{_default_screen_id(session)}",
        screen_form(name="Accueil", target_ids=every_target),
    )
    code = _codes(admin_client)["petition-2027"]

    response = staff_post(
        admin_client, f"/staff/targets/{petition_id}", target_form(active=None), headers=EN
    )

    assert response.status_code == 303
    listing = admin_client.get(LIST, headers=EN).get_data(as_text=True)
    assert "QR target Sign the 2027 petition saved" in listing
    assert "switched off" in _row(listing, petition_id)
    for slug in (SCREEN, DEFAULT_SCREEN):
        bundle = _bundle(admin_client, slug)
        assert [code["target"] for code in bundle["codes"]] == ["donate", "signup"]
        assert "petition-2027" not in bundle["words"]["fr"]
    _leads_nowhere(admin_client, code)
    # The screens still have it ticked: switched on again, the same printed code leads there.
    staff_post(admin_client, f"/staff/targets/{petition_id}", target_form())
    assert _codes(admin_client)["petition-2027"] == code
    assert _lands_on(admin_client, code)[0] == "https://petition.example.org/2027"


def test_a_built_in_targets_own_address_overrides_the_setting_until_it_is_emptied(
    admin_client, session
):
    code = _codes(admin_client, DEFAULT_SCREEN)["signup"]
    assert _lands_on(admin_client, code)[0] == SIGNUP_URL
    own = "https://listes.example.org/ambulante"
    signup = fields_of(_target(session, "signup"))

    response = staff_post(
        admin_client,
        f"/staff/targets/{SIGNUP_ID}",
        target_form(
            label_fr=signup.label_fr, label_es=signup.label_es, label_en=signup.label_en, url=own
        ),
    )

    assert response.status_code == 303
    assert _lands_on(admin_client, code)[0] == own
    row = _row(admin_client.get(LIST, headers=EN).get_data(as_text=True), SIGNUP_ID)
    assert own in row and "from the setting" not in row
    staff_post(
        admin_client,
        f"/staff/targets/{SIGNUP_ID}",
        target_form(
            label_fr=signup.label_fr, label_es=signup.label_es, label_en=signup.label_en, url=""
        ),
    )
    assert _lands_on(admin_client, code)[0] == SIGNUP_URL
    row = _row(admin_client.get(LIST, headers=EN).get_data(as_text=True), SIGNUP_ID)
    assert f"from the setting AMBULANTE_SIGNUP_URL: {SIGNUP_URL}" in row


MEMBERSHIP_LABELS = {
    "label_fr": "Devenir membre",
    "label_es": "Hacerse miembro",
    "label_en": "Become a member",
}


def test_the_dues_form_is_left_out_until_the_setting_gives_its_address(app, admin_client, session):
    assert "membership" not in _codes(admin_client, DEFAULT_SCREEN)
    row = _row(admin_client.get(LIST, headers=EN).get_data(as_text=True), MEMBERSHIP_ID)
    assert "not set: left out of every screen and poster" in row
    assert "left out: no address" in row
    page = admin_client.get(f"/staff/targets/{MEMBERSHIP_ID}", headers=EN).get_data(as_text=True)
    assert "AMBULANTE_MEMBERSHIP_URL, which is not set" in page
    # A screen set up without it never shows it, address or not.
    staff_post(admin_client, "/staff/screens/new", screen_form(target_ids=["1", "2"]))

    app.config["MEMBERSHIP_URL"] = "https://ciso.example.org/adhesion"

    codes = _codes(admin_client, DEFAULT_SCREEN)
    assert list(codes) == ["donate", "signup", "membership"]
    assert _bundle(admin_client, DEFAULT_SCREEN)["words"]["es"]["membership"] == "Hacerse miembro"
    assert _lands_on(admin_client, codes["membership"])[0] == "https://ciso.example.org/adhesion"
    assert "membership" not in _codes(admin_client)
    row = _row(admin_client.get(LIST, headers=EN).get_data(as_text=True), MEMBERSHIP_ID)
    assert "from the setting AMBULANTE_MEMBERSHIP_URL: https://ciso.example.org/adhesion" in row


def test_the_dues_form_is_offered_once_staff_give_it_an_address_of_its_own(admin_client, session):
    assert "membership" not in _codes(admin_client, DEFAULT_SCREEN)

    response = staff_post(
        admin_client,
        f"/staff/targets/{MEMBERSHIP_ID}",
        target_form(**MEMBERSHIP_LABELS, url="https://ciso.example.org/cotisation"),
    )

    assert response.status_code == 303
    code = _codes(admin_client, DEFAULT_SCREEN)["membership"]
    assert _lands_on(admin_client, code)[0] == "https://ciso.example.org/cotisation"
    row = _row(admin_client.get(LIST, headers=EN).get_data(as_text=True), MEMBERSHIP_ID)
    assert "https://ciso.example.org/cotisation" in row and "offered" in row


# (what is posted, the field whose message it is, the message in English, in French)
LABEL_ONE_LINE = (
    "A label is one line of at most 120 characters.",
    "Une étiquette tient sur une ligne d'au plus 120 caractères.",
)
WRITE_THE_LABEL = (
    "Write the label visitors read under the code.",
    "Écrivez l'étiquette que les visiteurs lisent sous le code.",
)
FULL_ADDRESS = (
    "Give the full address of the page, starting with https://.",
    "Donnez l'adresse complète de la page, qui commence par https://.",
)
BAD_FIELDS = {
    "missing Spanish label": ({"label_es": "   "}, "label_es", *WRITE_THE_LABEL),
    "no English label sent": ({"label_en": None}, "label_en", *WRITE_THE_LABEL),
    "label with a newline": (
        {"label_fr": "Signer\nBcc: x@example.org"},
        "label_fr",
        *LABEL_ONE_LINE,
    ),
    "label of 121 characters": ({"label_en": "S" * 121}, "label_en", *LABEL_ONE_LINE),
    "ftp address": ({"url": "ftp://petition.example.org/2027"}, "url", *FULL_ADDRESS),
    "javascript: address": ({"url": "javascript:alert(document.cookie)"}, "url", *FULL_ADDRESS),
    "relative address": ({"url": "/petition-2027"}, "url", *FULL_ADDRESS),
    "address without https://": ({"url": "petition.example.org/2027"}, "url", *FULL_ADDRESS),
    "address of 501 characters": (
        {"url": "https://petition.example.org/" + "a" * 472},
        "url",
        *FULL_ADDRESS,
    ),
    "address with spaces": (
        {"url": "https://petition.example.org/ma pétition"},
        "url",
        *FULL_ADDRESS,
    ),
    "address with a line break": (
        {"url": "https://a.example.org/\r\nSet-Cookie: x=1"},
        "url",
        *FULL_ADDRESS,
    ),
    "address with no host": ({"url": "https:///petition"}, "url", *FULL_ADDRESS),
    "address with a broken host": ({"url": "https://[petition.example.org/"}, "url", *FULL_ADDRESS),
}
LETTERS_OR_DIGITS = (
    "Give the target a name made of letters or digits.",
    "Donnez à la destination un nom fait de lettres ou de chiffres.",
)
NAME_TAKEN = ("A target already has that name.", "Une destination porte déjà ce nom.")
BAD_NEW_TARGETS = {
    "empty name": ({"name": "  "}, "name", *LETTERS_OR_DIGITS),
    "name with no letters": ({"name": "¡¿ — !?"}, "name", *LETTERS_OR_DIGITS),
    "name of a built-in target": ({"name": "Donate"}, "name", *NAME_TAKEN),
    "name the kiosk uses for portraits": ({"name": "Portrait"}, "name", *NAME_TAKEN),
    "name the kiosk uses for its words": ({"name": "scan"}, "name", *NAME_TAKEN),
    "no address": ({"url": ""}, "url", *FULL_ADDRESS),
    **BAD_FIELDS,
}


@pytest.mark.parametrize("language", ["en", "fr"])
@pytest.mark.parametrize("case", BAD_NEW_TARGETS.values(), ids=BAD_NEW_TARGETS.keys())
def test_an_administrator_gets_a_message_on_the_field_and_no_target_from_a_bad_one(
    admin_client, session, case, language
):
    posted, field, english, french = case
    targets, events = _count(session, ScanTarget), _count(session, AuditEvent)

    response = staff_post(
        admin_client, NEW, target_form(**posted), headers={"Accept-Language": language}
    )

    assert response.status_code == 422
    page = response.get_data(as_text=True)
    says_on_its_field(page, field, english if language == "en" else french)
    assert 'aria-invalid="true"' in page
    assert (_count(session, ScanTarget), _count(session, AuditEvent)) == (targets, events)


def test_a_name_already_used_is_refused_whatever_its_accents_and_capitals(admin_client, session):
    _add_petition(admin_client)
    targets = _count(session, ScanTarget)

    response = staff_post(admin_client, NEW, target_form(name="PETITION  2027!"), headers=EN)

    assert response.status_code == 422
    says_on_its_field(response.get_data(as_text=True), "name", NAME_TAKEN[0])
    assert _count(session, ScanTarget) == targets


BAD_CHANGES = {
    "an added target with no address": ({"url": ""}, "url", *FULL_ADDRESS),
    **BAD_FIELDS,
}


@pytest.mark.parametrize("case", BAD_CHANGES.values(), ids=BAD_CHANGES.keys())
def test_an_administrator_gets_a_message_and_the_target_unchanged_from_a_bad_change(
    admin_client, session, case
):
    petition_id = _add_petition(admin_client)
    before, events = fields_of(_target(session, "petition-2027")), _count(session, AuditEvent)
    posted, field, english, _french = case

    response = staff_post(
        admin_client,
        f"/staff/targets/{petition_id}",
        target_form(active=None, **posted),
        headers=EN,
    )

    assert response.status_code == 422
    page = response.get_data(as_text=True)
    says_on_its_field(page, field, english)
    assert "Nothing was changed" in page
    assert fields_of(_target(session, "petition-2027")) == before
    assert _count(session, AuditEvent) == events


def test_a_target_that_does_not_exist_is_not_found(admin_client):
    assert admin_client.get("/staff/targets/9999").status_code == 404
    assert staff_post(admin_client, "/staff/targets/9999", target_form()).status_code == 404
    # A number no database integer holds names nothing either (and never reaches a query).
    assert admin_client.get("/staff/targets/99999999999999999999").status_code == 404


def test_plain_staff_read_the_targets_but_cannot_add_or_change_one(staff_client, session):
    listing = staff_client.get(LIST, headers=EN).get_data(as_text=True)
    assert '<a href="/staff/targets" aria-current="page">QR targets</a>' in listing
    assert "Only an administrator can add or change a QR target" in listing
    assert 'href="/staff/targets/new"' not in listing
    page = staff_client.get(f"/staff/targets/{DONATE_ID}", headers=EN).get_data(as_text=True)
    assert "Faire un don" in page and '<form method="post" action="/staff/targets/1"' not in page
    donate, targets = fields_of(_target(session, "donate")), _count(session, ScanTarget)

    assert staff_client.get(NEW).status_code == 403
    assert staff_post(staff_client, NEW, target_form()).status_code == 403
    assert (
        staff_post(
            staff_client, f"/staff/targets/{DONATE_ID}", target_form(url="https://evil.example/")
        ).status_code
        == 403
    )

    assert _count(session, ScanTarget) == targets
    assert fields_of(_target(session, "donate")) == donate


def test_the_log_says_who_added_and_changed_a_target(admin_client, session):
    petition_id = _add_petition(admin_client)
    staff_post(
        admin_client,
        f"/staff/targets/{petition_id}",
        target_form(label_en="Sign the petition", active=None),
    )
    staff_post(  # saved as it is: nothing to log
        admin_client,
        f"/staff/targets/{petition_id}",
        target_form(label_en="Sign the petition", active=None),
    )

    session.commit()
    events = session.scalars(
        select(AuditEvent).where(AuditEvent.subject == "scan target").order_by(AuditEvent.id)
    ).all()
    assert [(event.action, event.actor, event.subject_key) for event in events] == [
        ("target added", "admin@centre.example", "petition-2027"),
        ("target changed", "admin@centre.example", "petition-2027"),
    ]
    assert '"label_en": "Sign the petition"' in events[1].after
    assert '"active": false' in events[1].after and '"active": true' in events[1].before
    history = admin_client.get(f"/staff/targets/{petition_id}", headers=EN).get_data(as_text=True)
    assert "QR target added" in history and "QR target changed" in history
    log = admin_client.get("/staff/log", headers=FR).get_data(as_text=True)
    assert "destination de code QR ajoutée" in log and "destination de code QR modifiée" in log


def test_the_targets_pages_speak_french_to_french_staff(admin_client):
    listing = admin_client.get(LIST, headers=FR).get_data(as_text=True)
    assert "<h1>Destinations des codes QR</h1>" in listing
    assert re.search(
        r'<a href="/staff/targets" aria-current="page">Destinations des codes QR</a>', listing
    )
    assert "non réglée\xa0: laissée de côté sur tous les écrans et toutes les affiches" in listing
    form = admin_client.get(NEW, headers=FR).get_data(as_text=True)
    assert "Ajouter la destination" in form
