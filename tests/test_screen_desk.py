"""Staff set up the screens: one for a union's venue with its languages, its pace and its
portraits, which then plays at its own address; every bad choice is refused with a message
on its field; the list says which screens are on, what they show and whether they run the
latest content; only an administrator deletes a screen, and never the default one."""

from __future__ import annotations

import datetime as dt
import io
import re
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import func, select

from core.clock import LOCAL_TIMEZONE, now_utc
from core.staff.models import AuditEvent
from kiosk.models import Heartbeat, Screen
from kiosk.screens import settings_of
from media import jobs
from media.ingest import clean_upload
from media.models import Portrait
from media.portraits import PortraitText, add_portrait, public_portraits
from tests.factories import hold, says_on_its_field, screen_form, staff_post

EN = {"Accept-Language": "en"}
FR = {"Accept-Language": "fr"}
NEW = "/staff/screens/new"
NAME = "Salle des métallos"
SLUG = "salle-des-metallos"


def _picture(colour: str) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (1200, 1600), colour).save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def _portrait(app, session, place: str, colour: str, published: bool = True) -> Portrait:  # type: ignore[no-untyped-def]
    """A portrait with its sizes made, as the library's worker makes them."""
    text = PortraitText(
        caption_fr=f"Une valoriste à {place}.",
        caption_es=f"Una valorista en {place}.",
        caption_en=f"A valoriste in {place}.",
        alt_fr=f"Une femme pousse un chariot à {place}",
        alt_en=f"A woman pushes a cart in {place}",
        place=place,
        country="Canada",
        credit="Photographe de test",
        published=published,
        consent_given_on=dt.date(2020, 1, 1),
    )
    portrait = add_portrait(
        session, app.config["DATA_DIR"], clean_upload(_picture(colour)), "test", now_utc(), text
    )
    session.commit()
    jobs.work_due_jobs(session, app.config["DATA_DIR"], now_utc())
    session.refresh(portrait)
    return portrait


def _now_in(session) -> None:  # type: ignore[no-untyped-def]
    """The test's session leaves its snapshot of the database: it sees what the requests
    wrote since, and may write after them."""
    session.commit()


def _screen(session, slug: str = SLUG) -> Screen:  # type: ignore[no-untyped-def]
    _now_in(session)
    return session.scalar(select(Screen).where(Screen.slug == slug))


def _bundle(client, slug: str = SLUG) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    response = client.get(f"/kiosk/{slug}/bundle.json")
    assert response.status_code == 200
    return response.get_json()


def _row(page: str, screen: Screen) -> str:
    found = re.search(rf'<tr id="screen-{screen.id}">(.*?)</tr>', page, re.S)
    assert found, f"no row for {screen.slug}"
    return " ".join(found[1].split())


def _count(session, model) -> int:  # type: ignore[no-untyped-def]
    _now_in(session)
    return session.scalar(select(func.count()).select_from(model))


def _heartbeat(client, slug: str, portrait: str | None, version: str) -> None:  # type: ignore[no-untyped-def]
    """What the kiosk sends every minute, through its real address."""
    report = {"seconds_ago": 0, "portrait": portrait, "bundle_version": version}
    response = client.post(f"/kiosk/{slug}/heartbeat", json={"reports": [report]})
    assert response.status_code == 200


def test_staff_set_up_a_screen_for_a_venue_and_it_plays_at_its_own_address(
    staff_client, session, today
):
    booking = hold(session, organization="Syndicat des débardeurs").booking
    form_page = staff_client.get(NEW, headers=EN).get_data(as_text=True)
    assert booking.reference in form_page and "Syndicat des débardeurs" in form_page

    response = staff_post(
        staff_client,
        NEW,
        screen_form(
            booking_id=str(booking.id),
            language_1="es",
            language_2="fr",
            language_3="",
            seconds_per_slide="8",
        ),
        headers=EN,
    )

    assert response.status_code == 303
    listing = staff_client.get(response.headers["Location"], headers=EN).get_data(as_text=True)
    assert f"Screen {NAME} added: it plays at /kiosk/{SLUG}." in listing
    row = _row(listing, _screen(session))
    assert NAME in row and f'href="/kiosk/{SLUG}"' in row
    assert booking.reference in row and "Syndicat des débardeurs" in row
    assert "Offline" in row and "never seen" in row
    assert staff_client.get(f"/kiosk/{SLUG}").status_code == 200
    bundle = _bundle(staff_client)
    assert bundle["languages"] == ["es", "fr"] and bundle["seconds_per_slide"] == 8
    played = [slide["portrait"] for slide in bundle["slides"]]
    assert played == [portrait.slug for portrait in public_portraits(session, today)]
    assert len(played) >= 2


def test_staff_choose_two_portraits_and_the_screen_plays_only_those(app, staff_client, session):
    first = _portrait(app, session, "Verdun", "teal")
    second = _portrait(app, session, "Rosemont", "olive")
    hidden = _portrait(app, session, "Lachine", "navy", published=False)
    form_page = staff_client.get(NEW, headers=EN).get_data(as_text=True)
    assert 'alt="A woman pushes a cart in Verdun"' in form_page  # its thumbnail
    choice = re.search(rf'id="portrait-{hidden.id}".*?</li>', form_page, re.S)
    assert choice and "not published" in choice[0]

    response = staff_post(
        staff_client,
        NEW,
        # The first twice, as a crafted form could: it plays once.
        screen_form(
            portraits="chosen", portrait_ids=[str(second.id), str(first.id), str(first.id)]
        ),
    )

    assert response.status_code == 303
    played = [slide["portrait"] for slide in _bundle(staff_client)["slides"]]
    assert played == [second.slug, first.slug]
    edit_page = staff_client.get(f"/staff/screens/{_screen(session).id}").get_data(as_text=True)
    for portrait in (first, second):
        assert re.search(rf'value="{portrait.id}" id="portrait-{portrait.id}" checked', edit_page)
    assert not re.search(rf'id="portrait-{hidden.id}" checked', edit_page)


def test_staff_change_a_screen_and_the_log_says_who_did_what(staff_client, session):
    staff_post(staff_client, NEW, screen_form())
    screen = _screen(session)
    edit_url = f"/staff/screens/{screen.id}"
    page = staff_client.get(edit_url, headers=EN).get_data(as_text=True)
    assert 'value="12"' in page and f'value="{NAME}"' in page

    response = staff_post(
        staff_client,
        edit_url,
        screen_form(
            name="Salle du 3e",
            language_1="en",
            language_2="es",
            language_3="",
            languages_together="y",
            seconds_per_slide="20",
            target_ids=["1"],  # donate alone
        ),
    )

    assert response.status_code == 303
    bundle = _bundle(staff_client)  # the address stays: devices already point at it
    assert bundle["screen"]["name"] == "Salle du 3e"
    assert bundle["languages"] == ["en", "es"] and bundle["languages_together"] is True
    assert bundle["seconds_per_slide"] == 20
    assert [code["target"] for code in bundle["codes"]] == ["donate"]
    _now_in(session)
    events = session.scalars(
        select(AuditEvent).where(AuditEvent.subject == "screen").order_by(AuditEvent.id)
    ).all()
    assert [(event.action, event.actor, event.subject_key) for event in events] == [
        ("screen created", "marie@centre.example", SLUG),
        ("screen changed", "marie@centre.example", SLUG),
    ]
    assert '"seconds_per_slide": 20' in events[-1].after
    assert '"seconds_per_slide": 12' in events[-1].before
    history = staff_client.get(edit_url, headers=EN).get_data(as_text=True)
    assert "screen changed" in history and "screen created" in history


# (what is posted, the field whose message it is, the message in English, in French)
BAD_INPUTS = {
    "empty name": (
        {"name": "  "},
        "name",
        "Give the screen a name.",
        "Donnez un nom à l'écran.",
    ),
    "name of 300 characters": (
        {"name": "S" * 300},
        "name",
        "A name is one line of at most 120 characters.",
        "Un nom tient sur une ligne d'au plus 120 caractères.",
    ),
    "newline in the name": (
        {"name": "Salle\nBcc: someone"},
        "name",
        "A name is one line of at most 120 characters.",
        "Un nom tient sur une ligne d'au plus 120 caractères.",
    ),
    "3 seconds": (
        {"seconds_per_slide": "3"},
        "seconds_per_slide",
        "A slide stays between 4 and 300 seconds.",
        "Une image reste entre 4 et 300 secondes.",
    ),
    "301 seconds": (
        {"seconds_per_slide": "301"},
        "seconds_per_slide",
        "A slide stays between 4 and 300 seconds.",
        "Une image reste entre 4 et 300 secondes.",
    ),
    "seconds not a number": (
        {"seconds_per_slide": "abc"},
        "seconds_per_slide",
        "Enter a whole number of seconds.",
        "Entrez un nombre entier de secondes.",
    ),
    "a language twice": (
        {"language_1": "fr", "language_2": "fr", "language_3": ""},
        "languages",
        "Each caption language once: French, Spanish or English.",
        "Chaque langue de légende une seule fois\xa0: français, espagnol ou anglais.",
    ),
    "no language": (
        {"language_1": "", "language_2": "", "language_3": ""},
        "languages",
        "Choose at least one caption language.",
        "Choisissez au moins une langue de légende.",
    ),
    "two together with one language": (
        {"language_2": "", "language_3": "", "languages_together": "y"},
        "languages_together",
        "Two captions together need two languages.",
        "Deux légendes ensemble demandent deux langues.",
    ),
    "unknown booking": (
        {"booking_id": "99999"},
        "booking_id",
        "Choose a booking from the list, or none.",
        "Choisissez une réservation de la liste, ou aucune.",
    ),
    "portrait that does not exist": (
        {"portraits": "chosen", "portrait_ids": ["99999"]},
        "portrait_ids",
        "A chosen portrait is no longer in the library.",
        "Un portrait choisi n'est plus dans la photothèque.",
    ),
    "portrait id too large for a database": (
        {"portraits": "chosen", "portrait_ids": ["1" * 30]},
        "portrait_ids",
        "Choose portraits from the library's list.",
        "Choisissez des portraits dans la liste de la photothèque.",
    ),
    "no portrait chosen": (
        {"portraits": "chosen"},
        "portrait_ids",
        "Choose at least one portrait, or all of them.",
        "Choisissez au moins un portrait, ou tous.",
    ),
}


@pytest.mark.parametrize("language", ["en", "fr"])
@pytest.mark.parametrize("case", BAD_INPUTS.values(), ids=BAD_INPUTS.keys())
def test_staff_get_a_message_on_the_field_and_no_screen_from_a_bad_choice(
    staff_client, session, case, language
):
    posted, field, english, french = case
    screens, events = _count(session, Screen), _count(session, AuditEvent)

    response = staff_post(
        staff_client, NEW, screen_form(**posted), headers={"Accept-Language": language}
    )

    assert response.status_code == 422
    says_on_its_field(
        response.get_data(as_text=True), field, english if language == "en" else french
    )
    assert (_count(session, Screen), _count(session, AuditEvent)) == (screens, events)


@pytest.mark.parametrize("case", BAD_INPUTS.values(), ids=BAD_INPUTS.keys())
def test_staff_get_a_message_and_the_screen_unchanged_from_a_bad_change(
    staff_client, session, case
):
    staff_post(staff_client, NEW, screen_form())
    screen = _screen(session)
    before, events = settings_of(screen), _count(session, AuditEvent)
    posted, field, english, _french = case

    response = staff_post(
        staff_client, f"/staff/screens/{screen.id}", screen_form(**posted), headers=EN
    )

    assert response.status_code == 422
    page = response.get_data(as_text=True)
    says_on_its_field(page, field, english)
    assert "Nothing was changed" in page
    assert settings_of(_screen(session)) == before and _count(session, AuditEvent) == events


def test_a_screen_that_does_not_exist_is_not_found(admin_client):
    for path in ("/staff/screens/9999", "/staff/screens/9999/delete"):
        assert admin_client.get(path).status_code == 404
        assert staff_post(admin_client, path, screen_form()).status_code == 404


def test_plain_staff_cannot_delete_a_screen(staff_client, session):
    staff_post(staff_client, NEW, screen_form())
    screen = _screen(session)
    assert "Only an administrator can delete a screen." in staff_client.get(
        f"/staff/screens/{screen.id}", headers=EN
    ).get_data(as_text=True)

    assert staff_client.get(f"/staff/screens/{screen.id}/delete").status_code == 403
    assert staff_post(staff_client, f"/staff/screens/{screen.id}/delete").status_code == 403
    assert _screen(session) is not None


def test_an_administrator_deletes_a_screen_after_confirming(admin_client, session):
    staff_post(admin_client, NEW, screen_form())
    screen = _screen(session)
    code = _bundle(admin_client)["codes"][0]["url"].rsplit("/", 1)[1]
    confirm = admin_client.get(f"/staff/screens/{screen.id}/delete", headers=EN)
    assert f"Delete {NAME}?" in confirm.get_data(as_text=True)
    assert _screen(session) is not None  # asking is not deleting

    response = staff_post(admin_client, f"/staff/screens/{screen.id}/delete", headers=EN)

    assert response.status_code == 303
    listing = admin_client.get("/staff/screens", headers=EN).get_data(as_text=True)
    assert f"Screen {NAME} deleted" in listing and f"/kiosk/{SLUG}" not in listing
    assert _screen(session) is None
    assert admin_client.get(f"/kiosk/{SLUG}").status_code == 404
    assert admin_client.get(f"/q/{code}").status_code == 404  # its codes are retired
    _now_in(session)
    actions = session.scalars(select(AuditEvent.action).where(AuditEvent.subject == "screen"))
    assert list(actions) == ["screen created", "screen deleted"]


def test_the_default_screen_cannot_be_deleted_and_the_page_says_why(admin_client, session):
    default = session.scalar(select(Screen).where(Screen.is_default.is_(True)))
    confirm = admin_client.get(f"/staff/screens/{default.id}/delete", headers=EN)
    page = confirm.get_data(as_text=True)
    assert "The default screen cannot be deleted: /kiosk/ plays it" in page
    assert "Delete the screen" not in page

    response = staff_post(admin_client, f"/staff/screens/{default.id}/delete", headers=EN)

    assert response.status_code == 409
    assert "The default screen cannot be deleted." in response.get_data(as_text=True)
    assert _screen(session, default.slug) is not None
    assert admin_client.get("/kiosk/").status_code == 200


def test_staff_see_which_screens_are_on_what_they_show_and_whether_they_are_current(
    app, staff_client, session
):
    portrait = _portrait(app, session, "Hochelaga", "maroon")
    staff_post(staff_client, NEW, screen_form())
    staff_post(staff_client, NEW, screen_form(name="Hall du local 9"))
    playing, silent = _screen(session), _screen(session, "hall-du-local-9")
    _heartbeat(staff_client, SLUG, portrait.slug, _bundle(staff_client)["version"])
    # The other screen last spoke two hours ago, running a bundle since replaced.
    seen = (now_utc() - dt.timedelta(hours=2)).replace(second=0, microsecond=0)
    _now_in(session)
    session.add(Heartbeat(screen_id=silent.id, minute=seen, bundle_version="0123456789abcdef"))
    session.commit()

    listing = staff_client.get("/staff/screens", headers=EN).get_data(as_text=True)

    row = _row(listing, playing)
    assert "Online" in row and "Offline" not in row
    assert "showing Hochelaga, Canada" in row
    assert "up to date" in row and "out of date" not in row
    row = _row(listing, silent)
    assert "Offline" in row and "out of date" in row and "up to date" not in row
    local, utc = seen.astimezone(LOCAL_TIMEZONE), seen
    assert f"{local.hour % 12 or 12}:{local.minute:02d}" in row  # Montréal time
    assert f"{utc.hour % 12 or 12}:{utc.minute:02d}" not in row

    # Staff change the screen: until it fetches the new bundle, it runs old content.
    staff_post(staff_client, f"/staff/screens/{playing.id}", screen_form(seconds_per_slide="9"))
    listing = staff_client.get("/staff/screens", headers=EN).get_data(as_text=True)
    assert "out of date" in _row(listing, playing)


def test_a_screen_silent_for_a_few_minutes_counts_as_offline(staff_client, session):
    staff_post(staff_client, NEW, screen_form())
    screen = _screen(session)
    version = _bundle(staff_client)["version"]
    seen = (now_utc() - dt.timedelta(minutes=10)).replace(second=0, microsecond=0)
    _now_in(session)
    session.add(Heartbeat(screen_id=screen.id, minute=seen, bundle_version=version))
    session.commit()

    row = _row(staff_client.get("/staff/screens", headers=EN).get_data(as_text=True), screen)

    assert "Offline" in row and "up to date" in row and "last seen" in row


def test_the_screens_page_speaks_french_to_french_staff(staff_client):
    page = staff_client.get("/staff/screens", headers=FR).get_data(as_text=True)
    assert "<h1>Écrans</h1>" in page
    assert re.search(r'<a href="/staff/screens" aria-current="page">Écrans</a>', page)
    assert "Ajouter un écran" in page
