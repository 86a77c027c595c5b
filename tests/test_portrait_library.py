"""The staff portrait library: staff upload several files at once, write captions and consent,
order the portraits, delete one; a portrait whose consent is withdrawn or expired leaves every
public address at once while staff still see it, marked."""

from __future__ import annotations

import datetime as dt
import io
import random
import re
import tempfile
import threading

import pytest
from PIL import Image
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from core.clock import now_utc
from core.database import session_for
from core.staff.audit import events_of
from core.web import BODY_LIMITS
from media import jobs, storage
from media.ingest import clean_upload
from media.jobs import work_due_jobs
from media.library_service import CAPTION_MAX_LENGTH, Outcome, add_clean_image
from media.models import Portrait, PortraitState
from media.portraits import add_portrait
from tests.factories import csrf_token, staff_post

EN = {"Accept-Language": "en"}
HTMX_UPLOAD = {**EN, "HX-Request": "true", "HX-Target": "upload-results"}
HTMX_LIST = {**EN, "HX-Request": "true", "HX-Target": "portrait-list"}
NOT_AN_IMAGE = "This file is not a JPEG, PNG or WebP image."


def image_bytes(colour: tuple[int, int, int], image_format: str = "JPEG") -> bytes:
    """A small picture of one colour: each colour is a different file."""
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), colour).save(buffer, image_format)
    return buffer.getvalue()


def upload(client, files: list[tuple[bytes, str]], headers: dict[str, str] | None = None):
    data = {"files": [(io.BytesIO(content), name) for content, name in files]}
    return staff_post(client, "/staff/portraits", data, headers=headers or EN)


def upload_large(client, content: bytes, name: str, token: str = "", headers=EN):
    """An upload past 500 kB, its body encoded here in memory (the test client would spill
    it to a temporary file of its own)."""
    fields = {"csrf_token": token, "files": FileStorage(io.BytesIO(content), name, "files")}
    boundary, body = encode_multipart(fields)
    return client.post(
        "/staff/portraits",
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
        headers=headers,
    )


def media_files(app) -> set[str]:
    return {path.name for path in (app.config["DATA_DIR"] / storage.MEDIA_DIR).rglob("*.*")}


def make_renditions(app, session) -> int:
    return work_due_jobs(session, app.config["DATA_DIR"], now_utc())


def fresh(session) -> None:
    """What the app committed meanwhile: a new transaction, nothing kept from the last."""
    session.commit()
    session.expire_all()


def portraits(session) -> list[Portrait]:
    fresh(session)
    return list(session.scalars(select(Portrait).order_by(Portrait.position, Portrait.id)))


def newest(session) -> Portrait:
    fresh(session)
    return session.scalars(select(Portrait).order_by(Portrait.id.desc())).first()


def count(session) -> int:
    fresh(session)
    return session.scalar(select(func.count()).select_from(Portrait))


def row_of(page: str, portrait: Portrait) -> str:
    """The list item of one portrait in the library's page."""
    match = re.search(rf'<li id="portrait-{portrait.id}".*?</li>', page, re.S)
    assert match, f"{portrait.slug} is not in the library"
    return match[0]


def saved_values(**overrides: str) -> dict[str, str]:
    values = {
        "caption_fr": "Une trieuse au centre de tri de Saint-Michel.",
        "caption_es": "Una recicladora en el centro de Saint-Michel.",
        "caption_en": "A sorter at the Saint-Michel sorting centre.",
        "alt_fr": "Une femme tient un sac de canettes devant un convoyeur.",
        "alt_es": "Una mujer sostiene una bolsa de latas.",
        "alt_en": "A woman holds a bag of cans in front of a conveyor.",
        "place": "Montréal",
        "country": "Canada",
        "credit": "Photo : Lucía Ramírez",
        "consent_given_on": "2024-03-01",
        "consent_valid_until": "",
        "consent_withdrawn_on": "",
    }
    values.update(overrides)
    return values


@pytest.fixture
def added(app, staff_client, session) -> Portrait:
    """One portrait uploaded by staff, its sizes made."""
    upload(staff_client, [(image_bytes((200, 30, 30)), "rouge.jpg")])
    make_renditions(app, session)
    return newest(session)


def test_staff_upload_several_files_at_once_and_each_is_answered(app, staff_client, session):
    before = count(session)
    answer = upload(
        staff_client,
        [
            (image_bytes((10, 120, 10)), "verte.jpg"),
            (b"Liste des photos a envoyer\n", "notes.jpg"),
            (image_bytes((10, 10, 120), "PNG"), "bleue.png"),
        ],
        HTMX_UPLOAD,
    )

    assert answer.status_code == 200
    page = answer.get_data(as_text=True)
    assert "<html" not in page  # the results and the list, in place
    assert "Added 2, skipped 0, refused 1." in page
    assert re.search(
        rf"notes\.jpg</span>:\s*<strong>refused:</strong> {re.escape(NOT_AN_IMAGE)}", page
    )
    assert 'id="portrait-list"' in page and 'hx-swap-oob="true"' in page
    assert count(session) == before + 2
    new = portraits(session)[-2:]
    assert [p.state for p in new] == [PortraitState.PROCESSING] * 2
    assert all(not p.published for p in new)
    assert all("processing…" in row_of(page, p) for p in new)

    assert make_renditions(app, session) == 2
    library = staff_client.get("/staff/portraits", headers=EN).get_data(as_text=True)
    for portrait in new:
        row = row_of(library, portrait)
        assert "ready" in row and "processing…" not in row
        smallest_jpeg = next(r for r in portrait.renditions if r.format == "jpeg")
        assert f"/staff/portraits/{portrait.id}/image/{smallest_jpeg.sha256}.jpg" in row


def test_staff_upload_the_same_file_again_and_it_is_skipped_naming_the_portrait(
    staff_client, session, added
):
    before = count(session)
    answer = upload(staff_client, [(image_bytes((200, 30, 30)), "copie.jpg")], HTMX_UPLOAD)

    page = answer.get_data(as_text=True)
    assert "Added 0, skipped 1, refused 0." in page
    assert "skipped: this file is already in the library." in page
    assert f'href="/staff/portraits/{added.id}">See {added.slug}</a>' in page
    assert count(session) == before


def test_staff_without_javascript_upload_and_come_back_to_the_library(staff_client, session):
    before = count(session)
    answer = upload(
        staff_client,
        [(image_bytes((90, 90, 0)), "jaune.webp"), (b"%PDF-1.4", "contrat.pdf")],
    )

    assert answer.status_code == 303
    assert answer.headers["Location"] == "/staff/portraits"
    page = staff_client.get("/staff/portraits", headers=EN).get_data(as_text=True)
    assert "Added 1, skipped 0, refused 1." in page
    assert f"contrat.pdf: refused. {NOT_AN_IMAGE}" in page
    assert count(session) == before + 1


def test_staff_without_javascript_sending_many_bad_files_read_the_first_and_a_count(
    staff_client,
):
    many = [
        (f"note {n}".encode(), f"{'compte-rendu-de-la-tournee-' * 4}{n}.jpg") for n in range(12)
    ]

    answer = upload(staff_client, many)

    assert answer.status_code == 303
    page = staff_client.get("/staff/portraits", headers=EN)
    assert page.status_code == 200  # still signed in: the answer fits in the session cookie
    text = page.get_data(as_text=True)
    assert "Added 0, skipped 0, refused 12." in text
    assert text.count(NOT_AN_IMAGE) == 8
    assert "And 4 more files skipped or refused." in text


def test_staff_sending_no_file_are_asked_for_one(staff_client, session):
    before = count(session)
    answer = staff_post(
        staff_client, "/staff/portraits", {"files": (io.BytesIO(b""), "")}, headers=EN
    )

    assert answer.status_code == 422
    assert "Choose one or more images to upload first." in answer.get_data(as_text=True)
    assert count(session) == before


@pytest.mark.parametrize("headers", [EN, HTMX_UPLOAD], ids=["page", "htmx"])
def test_staff_sending_more_than_the_upload_limit_are_told_so(app, staff_client, session, headers):
    app.extensions[BODY_LIMITS]["portraits"] = 10_000  # a small limit, the same rule
    before = count(session)
    answer = upload(staff_client, [(b"x" * 20_000, "grande.jpg")], headers)

    assert answer.status_code == 413
    page = answer.get_data(as_text=True)
    assert "What you sent is over" in page and "send the files a few at a time" in page
    assert ("<html" in page) is (headers is EN)
    assert count(session) == before


def test_staff_write_captions_and_consent_and_it_is_in_the_history(staff_client, session, added):
    page = staff_client.get(f"/staff/portraits/{added.id}", headers=EN).get_data(as_text=True)
    assert "Caption in Spanish" in page

    answer = staff_post(
        staff_client,
        f"/staff/portraits/{added.id}",
        saved_values(published="y", consent_valid_until="2090-12-31"),
        headers=EN,
    )

    assert answer.status_code == 303
    portrait = newest(session)
    assert portrait.caption_es == "Una recicladora en el centro de Saint-Michel."
    assert portrait.place == "Montréal" and portrait.published
    assert portrait.consent_given_on == dt.date(2024, 3, 1)
    assert portrait.consent_valid_until == dt.date(2090, 12, 31)
    (change,) = [
        e for e in events_of(session, "portrait", added.slug) if e.action != "portrait added"
    ]
    assert change.action == "portrait changed" and change.actor == "marie@centre.example"
    assert change.after["place"] == "Montréal"
    page = staff_client.get(answer.headers["Location"], headers=EN).get_data(as_text=True)
    assert "Portrait saved." in page and "portrait changed" in page
    assert "published: the public sees it" in page


TOO_LONG_PLACE = "x" * (Portrait.__table__.c.place.type.length + 1)
BAD_VALUES = {
    "valid until before given": (
        {"consent_valid_until": "2024-02-01"},
        "consent_valid_until",
        "Consent cannot end before the day it was given.",
    ),
    "withdrawn before given": (
        {"consent_withdrawn_on": "2024-01-01"},
        "consent_withdrawn_on",
        "Consent cannot be withdrawn before the day it was given.",
    ),
    "published without consent": (
        {"published": "y", "consent_given_on": ""},
        "published",
        "A portrait is published only while its consent holds",
    ),
    "published after consent ended": (
        {"published": "y", "consent_valid_until": "2024-06-30"},
        "published",
        "A portrait is published only while its consent holds",
    ),
    "published with consent withdrawn": (
        {"published": "y", "consent_withdrawn_on": "2024-05-01"},
        "published",
        "A portrait is published only while its consent holds",
    ),
    "published without French alt text": (
        {"published": "y", "alt_fr": "  "},
        "published",
        "Write the alt text in French before publishing it.",
    ),
    "line break in the place": (
        {"place": "Montréal\r\nSet-Cookie: x=1"},
        "place",
        "This is one line, without line breaks or control characters.",
    ),
    "NUL in a caption": (
        {"caption_fr": "Une trieuse\x00"},
        "caption_fr",
        "The caption has a control character",
    ),
    "over-long place": (
        {"place": TOO_LONG_PLACE},
        "place",
        "Keep it under 200 characters.",
    ),
    "over-long caption": (
        {"caption_en": "word " * (CAPTION_MAX_LENGTH // 4)},
        "caption_en",
        f"Keep the caption under {CAPTION_MAX_LENGTH} characters.",
    ),
    "over-long alt text": ({"alt_es": "y" * 501}, "alt_es", "Keep the alt text under 500"),
    "not a date": (
        {"consent_given_on": "2024-02-30"},
        "consent_given_on",
        "Enter a date (YYYY-MM-DD).",
    ),
    "words for a date": (
        {"consent_withdrawn_on": "last week"},
        "consent_withdrawn_on",
        "Enter a date (YYYY-MM-DD).",
    ),
    "consent given on a day ahead": (
        {"consent_given_on": "2999-01-01"},
        "consent_given_on",
        "Consent cannot be given on a day still ahead.",
    ),
}


@pytest.mark.parametrize("changes, field, message", BAD_VALUES.values(), ids=BAD_VALUES.keys())
def test_staff_typing_bad_values_see_what_to_fix_and_nothing_changes(
    staff_client, session, added, changes, field, message
):
    before = {name: getattr(added, name) for name in saved_values()} | {"published": False}
    events = len(events_of(session, "portrait", added.slug))

    answer = staff_post(
        staff_client, f"/staff/portraits/{added.id}", saved_values(**changes), headers=EN
    )

    assert answer.status_code == 422
    page = answer.get_data(as_text=True)
    assert "Nothing was changed: correct the fields marked below." in page
    error = re.search(rf'<p class="field-error" id="{field}-error">(.*?)</p>', page, re.S)
    assert error and message in error[1]
    fresh(session)
    portrait = session.get(Portrait, added.id)
    assert {name: getattr(portrait, name) for name in before} == before
    assert len(events_of(session, "portrait", added.slug)) == events


def test_staff_move_a_portrait_up_and_htmx_gets_the_list_only(staff_client, session):
    first, second = portraits(session)[:2]

    answer = staff_post(
        staff_client, f"/staff/portraits/{second.id}/move", {"direction": "up"}, headers=HTMX_LIST
    )

    assert answer.status_code == 200
    page = answer.get_data(as_text=True)
    assert page.lstrip().startswith('<form id="portrait-list"') and "<html" not in page
    assert page.index(f'id="portrait-{second.id}"') < page.index(f'id="portrait-{first.id}"')
    assert [p.id for p in portraits(session)[:2]] == [second.id, first.id]


def test_staff_without_javascript_move_a_portrait_down_and_come_back(staff_client, session):
    first, second = portraits(session)[:2]

    answer = staff_post(
        staff_client, f"/staff/portraits/{first.id}/move", {"direction": "down"}, headers=EN
    )

    assert answer.status_code == 303
    assert answer.headers["Location"] == f"/staff/portraits#portrait-{first.id}"
    assert [p.id for p in portraits(session)[:2]] == [second.id, first.id]


def test_a_move_without_a_direction_is_refused(staff_client, session):
    order = [p.id for p in portraits(session)]
    answer = staff_post(
        staff_client, f"/staff/portraits/{order[1]}/move", {"direction": "sideways"}, headers=EN
    )
    assert answer.status_code == 400
    assert "Say which way to move it: up or down." in answer.get_data(as_text=True)
    assert [p.id for p in portraits(session)] == order


def test_staff_drop_a_portrait_elsewhere_and_the_new_order_is_kept(staff_client, session):
    order = [p.id for p in portraits(session)]
    wanted = order[1:] + order[:1]

    answer = staff_post(
        staff_client, "/staff/portraits/order", {"ids": [str(i) for i in wanted]}, headers=HTMX_LIST
    )

    assert answer.status_code == 200
    assert [p.id for p in portraits(session)] == wanted
    page = answer.get_data(as_text=True)
    assert page.index(f'id="portrait-{wanted[0]}"') < page.index(f'id="portrait-{wanted[-1]}"')


@pytest.mark.parametrize(
    "wrong",
    [
        pytest.param(lambda order: order[:-1], id="one missing"),
        pytest.param(lambda order: order + [order[0]], id="one twice"),
        pytest.param(lambda order: order[:-1] + [999_999], id="one unknown"),
        pytest.param(lambda order: [], id="none"),
        pytest.param(lambda order: order[:-1] + ["x"], id="not a number"),
    ],
)
def test_an_order_that_is_not_the_library_is_refused_and_nothing_moves(
    staff_client, session, wrong
):
    order = [p.id for p in portraits(session)]

    answer = staff_post(
        staff_client,
        "/staff/portraits/order",
        {"ids": [str(i) for i in wrong(order)]},
        headers=HTMX_LIST,
    )

    assert answer.status_code == 400
    page = answer.get_data(as_text=True)
    assert "The library changed while you were ordering it" in page
    assert 'id="portrait-list"' in page  # the list as it is, to swap in
    assert [p.id for p in portraits(session)] == order


def test_staff_delete_a_portrait_after_seeing_what_goes(app, staff_client, session, added):
    portrait_id = added.id
    staff_post(staff_client, f"/staff/portraits/{added.id}", saved_values(), headers=EN)
    files = [storage.path_of(app.config["DATA_DIR"], added.original_sha256, added.original_format)]
    files += [storage.path_of(app.config["DATA_DIR"], r.sha256, r.format) for r in added.renditions]
    assert len(files) == 3 and all(path.is_file() for path in files)

    confirm = staff_client.get(f"/staff/portraits/{added.id}/delete", headers=EN)
    page = confirm.get_data(as_text=True)
    assert "Une trieuse au centre de tri de Saint-Michel." in page
    assert f"/staff/portraits/{added.id}/image/" in page
    assert "Delete the portrait and its files" in page
    assert session.get(Portrait, added.id) is not None  # asking changes nothing

    answer = staff_post(staff_client, f"/staff/portraits/{added.id}/delete", headers=EN)

    assert answer.status_code == 303
    fresh(session)
    assert session.get(Portrait, portrait_id) is None
    assert not any(path.exists() for path in files)
    page = staff_client.get("/staff/portraits", headers=EN).get_data(as_text=True)
    assert "Portrait deleted, with its image files." in page
    assert staff_client.get(f"/staff/portraits/{portrait_id}/delete").status_code == 404


def test_a_portrait_deleted_while_its_sizes_are_made_leaves_no_file_behind(
    app, staff_client, session, monkeypatch
):
    before = media_files(app)
    upload(staff_client, [(image_bytes((30, 90, 150)), "supprimee.jpg")])
    portrait_id = newest(session).id
    made_meanwhile = jobs.make_renditions

    def deleted_meanwhile(original: bytes, **options):
        made = made_meanwhile(original, **options)
        staff_post(staff_client, f"/staff/portraits/{portrait_id}/delete", headers=EN)
        return made

    monkeypatch.setattr(jobs, "make_renditions", deleted_meanwhile)

    assert make_renditions(app, session) == 0
    fresh(session)
    assert session.get(Portrait, portrait_id) is None
    assert media_files(app) == before  # not its original, not one of its sizes


def test_a_photo_is_never_written_to_disk_before_it_is_cleaned(staff_client, monkeypatch):
    spilled = []
    spill = tempfile.TemporaryFile  # where an upload too large to keep in memory would go

    def watched(*args, **kwargs):
        spilled.append(kwargs)
        return spill(*args, **kwargs)

    monkeypatch.setattr(tempfile, "TemporaryFile", watched)
    noise = random.Random(9).randbytes(900 * 700 * 3)
    exif = Image.Exif()
    exif.get_ifd(0x8825).update({1: "N", 2: (45.0, 31.0, 12.5), 18: "WGS-84"})
    photo = io.BytesIO()
    Image.frombytes("RGB", (900, 700), noise).save(photo, "JPEG", quality=95, exif=exif)
    assert len(photo.getvalue()) > 512 * 1024  # past what Werkzeug keeps in memory itself

    token = csrf_token(staff_client, "/staff/portraits")

    answer = upload_large(staff_client, photo.getvalue(), "gps.jpg", token, HTMX_UPLOAD)

    assert "Added 1, skipped 0, refused 0." in answer.get_data(as_text=True)
    assert spilled == []


def test_only_signed_in_staff_may_send_an_upload_larger_than_a_form(client, session):
    big = b"\xff\xd8\xff" + bytes(2 * 1024 * 1024)  # past the site's 1 MiB, under the library's
    before = count(session)

    answer = upload_large(client, big, "grande.jpg")

    assert answer.status_code == 413  # refused at the site's limit, never read in
    assert count(session) == before


def test_staff_uploading_a_strip_too_long_and_narrow_are_told_why(staff_client, session):
    before = count(session)
    strip = io.BytesIO()
    Image.new("L", (1, 70_000), 90).save(strip, "PNG")

    answer = upload(staff_client, [(strip.getvalue(), "bande.png")], HTMX_UPLOAD)

    assert answer.status_code == 200
    page = answer.get_data(as_text=True)
    assert "This image is too long and narrow to be shown: crop it and send it again." in page
    assert count(session) == before


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_the_same_file_added_twice_at_the_same_moment_is_kept_once(request, fresh_app, database):
    """A double-clicked upload: the second request finds the first's portrait (PostgreSQL
    lets both look before either has written)."""
    config = {"SEED_DEMO": False}
    if database == "postgresql":
        config["DATABASE_URL"] = request.getfixturevalue("postgres_url")
    app = fresh_app(**config)
    image = clean_upload(image_bytes((5, 100, 200)))
    results = []
    with session_for(app) as first:
        portrait = add_portrait(first, app.config["DATA_DIR"], image, "a@centre.example", now_utc())

        def second_request() -> None:
            with session_for(app) as second:
                results.append(
                    add_clean_image(
                        second,
                        app.config["DATA_DIR"],
                        "b.jpg",
                        image,
                        "b@centre.example",
                        now_utc(),
                    )
                )

        second = threading.Thread(target=second_request)
        second.start()
        second.join(1)  # it waits for the first upload's transaction
        first.commit()
        second.join(30)
    assert [(result.outcome, result.slug) for result in results] == [
        (Outcome.SKIPPED, portrait.slug)
    ]


def test_staff_record_a_withdrawal_and_the_portrait_leaves_every_public_address(
    client, staff_client, session, added
):
    staff_post(
        staff_client, f"/staff/portraits/{added.id}", saved_values(published="y"), headers=EN
    )
    public = public_addresses(added)
    assert [client.get(url).status_code for url in public] == [200] * 3

    answer = staff_post(
        staff_client,
        f"/staff/portraits/{added.id}",
        saved_values(consent_withdrawn_on="2024-05-02"),  # and no longer published
        headers=EN,
    )

    assert answer.status_code == 303
    assert [client.get(url).status_code for url in public] == [404] * 3
    row = row_of(staff_client.get("/staff/portraits", headers=EN).get_data(as_text=True), added)
    assert "consent withdrawn on May 2, 2024" in row and "not published" in row


def public_addresses(portrait: Portrait) -> list[str]:
    """Its page and each of its image files."""
    return [f"/p/{portrait.slug}"] + [
        f"/media/{r.sha256}.{storage.EXTENSIONS[r.format]}" for r in portrait.renditions
    ]


@pytest.mark.parametrize(
    "ended, mark",
    [
        ({"consent_withdrawn_on": dt.date(2024, 5, 2)}, "consent withdrawn on May 2, 2024"),
        ({"consent_valid_until": dt.date(2024, 6, 30)}, "consent expired on Jul 1, 2024"),
    ],
    ids=["withdrawn", "expired"],
)
def test_a_published_portrait_whose_consent_ended_is_never_public_and_staff_see_it_marked(
    client, staff_client, session, added, ended, mark
):
    staff_post(
        staff_client, f"/staff/portraits/{added.id}", saved_values(published="y"), headers=EN
    )
    public = public_addresses(added)
    assert [client.get(url).status_code for url in public] == [200] * 3

    # Consent ends while the portrait is still marked published (another process wrote the
    # withdrawal, or its last valid day went by).
    fresh(session)
    portrait = session.get(Portrait, added.id)
    for name, value in ended.items():
        setattr(portrait, name, value)
    session.commit()

    assert [client.get(url).status_code for url in public] == [404] * 3
    row = row_of(staff_client.get("/staff/portraits", headers=EN).get_data(as_text=True), added)
    assert mark in row and "published, but not shown to the public" in row
    thumbnail = re.search(r'src="(/staff/portraits/[^"]+)"', row)[1]
    with staff_client.get(thumbnail) as seen:
        assert seen.status_code == 200 and seen.mimetype == "image/jpeg"
        assert seen.headers["Cache-Control"] == "no-store"


def test_staff_see_a_portrait_without_consent_marked(staff_client, added):
    row = row_of(staff_client.get("/staff/portraits", headers=EN).get_data(as_text=True), added)
    assert "no consent recorded" in row and "not published" in row


def test_the_staff_image_address_serves_only_that_portraits_files(
    app, staff_client, session, added
):
    other = portraits(session)[0]
    assert other.id != added.id
    original = f"{added.original_sha256}.jpg"
    with staff_client.get(f"/staff/portraits/{added.id}/image/{original}") as seen:
        assert seen.status_code == 200 and seen.data == storage.read(
            app.config["DATA_DIR"], added.original_sha256, "jpeg"
        )
    assert staff_client.get(f"/staff/portraits/{other.id}/image/{original}").status_code == 404
    png = f"{added.original_sha256}.png"
    assert staff_client.get(f"/staff/portraits/{added.id}/image/{png}").status_code == 404


def test_a_portrait_that_does_not_exist_is_a_404_everywhere_in_the_library(staff_client):
    assert staff_client.get("/staff/portraits/999999").status_code == 404
    assert staff_client.get("/staff/portraits/999999/delete").status_code == 404
    for url in ("/staff/portraits/999999", "/staff/portraits/999999/delete"):
        assert staff_post(staff_client, url, saved_values()).status_code == 404
    move = staff_post(staff_client, "/staff/portraits/999999/move", {"direction": "up"})
    assert move.status_code == 404


def test_the_library_is_in_the_staff_navigation_and_says_it_in_french(staff_client):
    page = staff_client.get("/staff/portraits", headers={"Accept-Language": "fr"})
    assert page.status_code == 200
    assert 'href="/staff/portraits" aria-current="page">Portraits</a>' in page.get_data(
        as_text=True
    )


def test_media_work_makes_the_sizes_and_says_so(app, runner, staff_client, session):
    upload(staff_client, [(image_bytes((1, 2, 3)), "petite.jpg")])
    portrait = newest(session)

    result = runner.invoke(args=["media", "work", "--once"])

    assert result.exit_code == 0, result.output
    assert f"{portrait.slug}: made 2 files." in result.output
    assert newest(session).state == PortraitState.READY
    again = runner.invoke(args=["media", "work", "--once"])
    assert again.exit_code == 0 and again.output == ""


def test_the_upload_form_posts_with_htmx_and_shows_progress(staff_client):
    page = staff_client.get("/staff/portraits", headers=EN).get_data(as_text=True)
    form = re.search(r'<form id="upload-form".*?</form>', page, re.S)[0]
    assert 'hx-encoding="multipart/form-data"' in form and 'enctype="multipart/form-data"' in form
    assert '<input type="file" id="files" name="files" multiple' in form
    assert 'accept="image/jpeg,image/png,image/webp"' in form
    assert "<progress" in form
    assert "/static/library.js" in page
