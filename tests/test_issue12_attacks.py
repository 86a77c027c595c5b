"""Attacks on the scan targets, reports and printables: odd requests on SQLite and
PostgreSQL get an answer, never an error page; markup typed as a label, a screen's name or a
venue is shown as text; a poster keeps every target's code readable however many there are;
a reference that names no venue gets no codes; every report adds up to the database's own
counts, once each; a switched-off target or a withdrawn portrait leads nowhere from a printed
code; migration 0006 keeps every row of a database in use."""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
from typing import Any

import pypdfium2
import pytest
import zxingcpp
from alembic import command
from flask import Flask
from pypdf import PdfReader
from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session

from booking import decisions
from booking.models import Booking
from booking.status import BookingStatus
from core.clock import now_utc, today_local
from core.database import engine_of, session_for
from core.migrate import alembic_config
from core.staff.models import Role
from kiosk.links import count_scan, links_of, portrait_purpose
from kiosk.models import QrLink, ScanCount, ScanTarget, Screen
from kiosk.pdf_cards import CARD_CODE_SIZE
from kiosk.qr import QUIET_ZONE
from kiosk.report_service import DayRange, scan_report
from kiosk.screens import ScreenSettings, create_screen
from kiosk.targets import TargetFields, add_target, all_targets
from media.models import Portrait
from tests.factories import days_from_today, hold, sign_in, staff_account, staff_post, training_day

PUBLIC_URL = "https://ambulante.example.org"
EN = {"Accept-Language": "en"}
MARKUP = '"><svg onload=alert(1)><script>alert(2)</script>'
ODD_VALUES = [
    "",
    "x" * 5000,
    "é🎉",
    "a\x00b",
    "abc\x00def",  # as long as a code
    "%00",
    "../..",
    "99999999999999999999999",
    "-1",
    "2027-02-30",
    "9999-12-31",
    "0001-01-01",
    "2027-1-1",
    " 2027-01-01 ",
    "2027-01-01\n",
    "١٢٣٤-٠١-٠١",  # Arabic-Indic digits: \d matches them
    "２０２７-01-01",
    "ABCDEFG",
    "ǅǅǅǅǅǅǅ",
    "İİİİİİİ",  # lowercases into fourteen characters
    "AMB-2027-0001\x00",
    "AMB-٢٠٢٧-٠٠٠١",
    MARKUP,
]


@pytest.fixture
def app_config() -> dict[str, Any]:
    return {
        "PUBLIC_URL": PUBLIC_URL,
        "DONATE_URL": "https://dons.example.org/donner",
        "SIGNUP_URL": "https://infolettre.example.org/inscription",
        "MEMBERSHIP_URL": "https://ciso.example.org/adhesion",
    }


@pytest.fixture(params=["sqlite", "postgresql"])
def any_database_app(request, fresh_app, app_config) -> Flask:  # type: ignore[no-untyped-def]
    if request.param == "sqlite":
        return request.getfixturevalue("app")
    return fresh_app(DATABASE_URL=request.getfixturevalue("postgres_url"), **app_config)


def ago(days: int) -> dt.date:
    return today_local() - dt.timedelta(days=days)


def first_portrait(session: Session) -> Portrait:
    portrait = session.scalars(select(Portrait).order_by(Portrait.id)).first()
    assert portrait is not None, "the demo portraits are in the test database"
    return portrait


def add(session: Session, name: str, label: str = "Signer", url: str = "") -> ScanTarget:
    target = add_target(
        session,
        name,
        TargetFields(label, label, label, url=url or f"https://petition.example.org/{len(name)}"),
        "admin@centre.example",
        now_utc(),
    )
    session.commit()
    return target


# --- Odd requests --------------------------------------------------------------------------


def test_no_odd_request_to_the_scan_pages_gets_an_error_page(any_database_app):
    app = any_database_app
    with session_for(app) as session:
        admin = staff_account(session, "admin@centre.example", Role.ADMIN).email
        booking = hold(session, start=days_from_today(60)).booking
        reference, booking_id = booking.reference, booking.id
        slug = first_portrait(session).slug
    client = app.test_client()
    sign_in(client, admin)
    requests: list[tuple[str, dict[str, str]]] = []
    for first, last in itertools.product(ODD_VALUES, ODD_VALUES[:9]):
        requests += [("/staff/scans", {"from": first, "to": last})]
        requests += [("/staff/scans.csv", {"from": last, "to": first})]
    for odd in ODD_VALUES:
        requests += [
            (f"/staff/targets/{odd}", {}),
            (f"/staff/bookings/{booking_id}/caption-cards.pdf", {"paper": odd}),
            (f"/staff/bookings/{booking_id}/poster.pdf", {"paper": odd}),
            (f"/staff/bookings/{odd}/poster.pdf", {}),
            (f"/p/{odd}", {"venue": reference}),
            (f"/p/{slug}", {"venue": odd}),
            (f"/p/{slug}", {"screen": odd, "lang": odd}),
            (f"/q/{odd}", {}),
        ]
    requests += [
        ("/staff/printables", {}),
        ("/staff/targets", {}),
        (f"/p/{slug}", {"venue": reference}),
        (f"/p/{slug}", {"venue": "AMB-2027-999999999"}),
        ("/staff/bookings/99999999999999999999999/caption-cards.pdf", {}),
        ("/staff/targets/99999999999999999999999", {}),
    ]
    errors = []
    for method in ("GET", "HEAD", "POST", "PUT", "DELETE"):
        for path, query in requests if method == "GET" else requests[::5]:
            status = client.open(path, method=method, query_string=query).status_code
            if status >= 500:
                errors.append((method, path, query, status))
    for odd in ODD_VALUES:
        form = {"name": odd, "label_fr": odd, "label_es": odd, "label_en": odd, "active": odd}
        for path in ("/staff/targets/new", "/staff/targets/1"):
            for url in (odd, f"https://petition.example.org/{odd}"):
                status = staff_post(client, path, {**form, "url": url}).status_code
                if status >= 500:
                    errors.append(("POST", path, odd, status))

    assert errors == []


# --- Markup typed where text goes ----------------------------------------------------------


def test_markup_in_a_label_a_screens_name_or_a_venue_is_shown_as_text(app, session):
    booking = hold(
        session, start=days_from_today(60), organization=MARKUP, venue=MARKUP, city=MARKUP
    ).booking
    screen = create_screen(
        session, ScreenSettings(name=MARKUP, booking_id=booking.id), "t", now_utc()
    )
    session.commit()
    target = add(session, "petition", label=MARKUP)
    portrait = first_portrait(session)
    session.execute(update(Portrait).where(Portrait.id == portrait.id).values(place=MARKUP))
    session.commit()
    links = links_of(session, screen, all_targets(session), [portrait], now_utc())
    for link in links.values():
        count_scan(session, link.id, today_local())
    client = app.test_client()
    sign_in(client, staff_account(session, "admin@centre.example", Role.ADMIN).email)

    pages = {
        "report": client.get("/staff/scans", headers=EN),
        "targets": client.get("/staff/targets", headers=EN),
        "target": client.get(f"/staff/targets/{target.id}", headers=EN),
        "printables": client.get("/staff/printables", headers=EN),
        "visitor": client.get(f"/p/{portrait.slug}?screen={screen.slug}", headers=EN),
        "flash": staff_post(
            client,
            f"/staff/targets/{target.id}",
            {
                "label_fr": MARKUP,
                "label_es": MARKUP,
                "label_en": MARKUP,
                "url": "https://petition.example.org/x",
                "active": "y",
            },
            follow_redirects=True,
        ),
    }

    for name, response in pages.items():
        page = response.get_data(as_text=True)
        assert response.status_code == 200, name
        assert "<svg onload" not in page and "<script>alert" not in page, name
    assert "&lt;svg onload" in pages["report"].get_data(as_text=True)  # in a chart's label
    poster = client.get(f"/staff/bookings/{booking.id}/poster.pdf", headers=EN)
    metadata = PdfReader(io.BytesIO(poster.data)).metadata
    assert metadata is not None and metadata.title == f"Poster: {booking.reference}"


# --- The poster, however many targets ------------------------------------------------------


def codes_on_pages(pdf: bytes, scale: int = 2) -> list[list[tuple[str, float]]]:
    """Each page's QR codes as a phone reads them: the address, and the code's printed width
    in points, its quiet zone included (as CARD_CODE_SIZE counts it)."""
    document = pypdfium2.PdfDocument(pdf)
    found = []
    for page in document:
        image = page.render(scale=scale).to_pil().convert("L")
        page.close()
        codes = []
        for barcode in zxingcpp.read_barcodes(image):
            if barcode.format != zxingcpp.BarcodeFormat.QRCode:
                continue
            modules = 17 + 4 * int(barcode.extra["Version"])
            symbol = (barcode.position.top_right.x - barcode.position.top_left.x) / scale
            codes.append((barcode.text, symbol * (modules + 2 * QUIET_ZONE) / modules))
        found.append(codes)
    document.close()
    return found


def test_a_poster_with_a_dozen_targets_keeps_each_code_as_large_as_a_cards(admin_client, session):
    venue = hold(session, start=days_from_today(120)).booking
    for number in range(12):
        add(session, f"petition {number}", label=f"Pétition {number}")

    response = admin_client.get(f"/staff/bookings/{venue.id}/poster.pdf")

    assert response.status_code == 200
    pages = codes_on_pages(response.data)
    found = [code for page in pages for code in page]
    assert len(found) == 15  # the three starting targets and the twelve petitions
    assert len({url for url, _ in found}) == 15
    assert all(width >= CARD_CODE_SIZE - 2 for _, width in found), found  # 2 pt: the pixels


def test_a_poster_with_a_hundred_targets_still_prints(admin_client, session):
    venue = hold(session, start=days_from_today(120)).booking
    for number in range(100):
        add(session, f"t{number}", label="W" * 120)  # a long label with nowhere to break

    for paper in ("letter", "a4"):
        response = admin_client.get(f"/staff/bookings/{venue.id}/poster.pdf?paper={paper}")
        assert response.status_code == 200
        assert len(PdfReader(io.BytesIO(response.data)).pages) > 1


def test_a_poster_without_any_target_offered_is_one_sheet(admin_client, session, app):
    venue = hold(session, start=days_from_today(120)).booking
    session.execute(update(ScanTarget).values(active=False))
    session.commit()

    response = admin_client.get(f"/staff/bookings/{venue.id}/poster.pdf")

    assert response.status_code == 200
    assert len(PdfReader(io.BytesIO(response.data)).pages) == 1


# --- A venue's printed codes ---------------------------------------------------------------


def _links_of_booking(session: Session, booking: Booking) -> int:
    session.rollback()
    return session.scalar(
        select(func.count()).select_from(QrLink).where(QrLink.booking_id == booking.id)
    )


@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_a_visitor_naming_a_training_or_a_declined_booking_gets_no_codes_for_it(
    client, session, method
):
    training = hold(
        session,
        offering="formation-bd-textile",
        start=training_day(210),
        end=training_day(210),
    ).booking
    declined = hold(session, start=days_from_today(90)).booking
    decisions.decide(
        session, declined.reference, BookingStatus.DECLINED, "", "marie@centre.example", now_utc()
    )
    session.commit()
    slug = first_portrait(session).slug

    for booking in (training, declined):
        response = client.open(f"/p/{slug}?venue={booking.reference}", method=method)
        assert response.status_code == 200
        assert _links_of_booking(session, booking) == 0


def test_a_venues_visitor_page_counts_its_buttons_for_the_venue(client, session):
    venue = hold(session, start=days_from_today(90)).booking
    slug = first_portrait(session).slug

    page = client.get(f"/p/{slug}?venue={venue.reference}").get_data(as_text=True)

    session.rollback()
    codes = dict(
        session.execute(
            select(QrLink.purpose, QrLink.code).where(QrLink.booking_id == venue.id)
        ).all()
    )
    assert len(codes) == 4  # donate, signup, membership, and the portrait's story
    assert all(f"/q/{codes[key]}" in page for key in ("donate", "signup", "membership"))


def test_a_switched_off_target_and_a_withdrawn_portrait_lead_nowhere_from_printed_codes(
    admin_client, client, session
):
    venue = hold(session, start=days_from_today(120)).booking
    portrait = first_portrait(session)
    assert admin_client.get(f"/staff/bookings/{venue.id}/poster.pdf").status_code == 200
    assert admin_client.get(f"/staff/bookings/{venue.id}/caption-cards.pdf").status_code == 200
    session.rollback()
    printed = {
        link.purpose: link.code
        for link in session.scalars(select(QrLink).where(QrLink.booking_id == venue.id))
    }
    assert client.get(f"/q/{printed['donate']}").status_code == 302
    assert client.get(f"/q/{printed[portrait_purpose(portrait)]}").status_code == 302

    session.rollback()  # a snapshot older than the scans' counts cannot write on SQLite
    session.execute(update(ScanTarget).where(ScanTarget.key == "donate").values(active=False))
    session.execute(update(Portrait).where(Portrait.id == portrait.id).values(published=False))
    session.commit()

    assert client.get(f"/q/{printed['donate']}").status_code == 404
    assert client.get(f"/q/{printed[portrait_purpose(portrait)]}").status_code == 404
    other = session.scalars(select(Portrait).where(Portrait.id != portrait.id)).first()
    page = client.get(f"/p/{other.slug}?venue={venue.reference}", headers=EN)
    assert f"/q/{printed['donate']}" not in page.get_data(as_text=True)


# --- The reports add up --------------------------------------------------------------------


def test_every_scan_is_counted_once_in_each_view_and_in_the_csv(staff_client, session):
    """A venue's screen, its printed codes, a deleted screen's code and a removed portrait's:
    the total, each table's sum, the days' sum and the CSV's sum all agree."""
    venue = hold(session, start=days_from_today(60), audience=50).booking
    hall = create_screen(session, ScreenSettings(name="Salle", booking_id=venue.id), "t", now_utc())
    gone = create_screen(session, ScreenSettings(name="Disparu"), "t", now_utc())
    session.commit()
    portraits = list(session.scalars(select(Portrait).order_by(Portrait.id)))[:2]
    scans = 0
    for owner in (hall, gone, venue):
        links = links_of(session, owner, all_targets(session), portraits, now_utc())
        for times, link in enumerate(links.values(), start=1):
            for day in (ago(0), ago(4)):
                session.add(ScanCount(link_id=link.id, day=day, scans=times))
                scans += times
    session.commit()
    session.delete(session.get(Screen, gone.id))
    session.execute(
        update(QrLink).where(QrLink.portrait_id == portraits[1].id).values(portrait_id=None)
    )
    session.commit()

    report = staff_client.get("/staff/scans", headers=EN).get_data(as_text=True)
    rows = list(
        csv.reader(io.StringIO(staff_client.get("/staff/scans.csv").get_data(as_text=True)))
    )

    assert f"<strong>{scans:,}</strong>" in report
    assert sum(int(row[-1]) for row in rows[1:]) == scans
    assert len(rows) - 1 == session.scalar(select(func.count()).select_from(ScanCount))
    tallies = scan_report(session, DayRange(ago(29), ago(0)))
    assert tallies.total == scans
    for view in (tallies.venues, tallies.screens, tallies.targets):
        assert sum(tally.scans for tally in view) == scans
    assert sum(scans for _, scans in tallies.daily) == scans


def test_scans_a_screen_took_before_its_venue_are_not_that_venues(staff_client, session):
    """Staff set the hall's screen for a venue two months ahead; it plays at the centre
    meanwhile. The venue's scans per hundred visitors are its visitors' alone."""
    venue = hold(session, start=days_from_today(60), end=days_from_today(64), audience=80).booking
    hall = create_screen(session, ScreenSettings(name="Salle", booking_id=venue.id), "t", now_utc())
    session.commit()
    donate = links_of(session, hall, all_targets(session), [], now_utc())["donate"]
    session.add(ScanCount(link_id=donate.id, day=ago(1), scans=40))  # at the centre
    session.add(ScanCount(link_id=donate.id, day=days_from_today(61), scans=8))  # at the venue
    session.commit()
    period = {"from": ago(10).isoformat(), "to": days_from_today(70).isoformat()}

    report = staff_client.get("/staff/scans", query_string=period, headers=EN)
    rows = list(
        csv.reader(
            io.StringIO(
                staff_client.get("/staff/scans.csv", query_string=period).get_data(as_text=True)
            )
        )
    )

    page = report.get_data(as_text=True)
    assert ">10.0<" in page  # 8 scans for 80 people
    assert [row[4] for row in rows[1:]] == ["", venue.reference]


# --- Migration 0006 on a database in use ---------------------------------------------------


@pytest.fixture(params=["sqlite", "postgresql"])
def database_at_0005(request, fresh_app) -> Flask:  # type: ignore[no-untyped-def]
    """A database in use before 0006: a screen at a venue showing the donate code alone,
    one showing the signup code alone, their chosen portraits, links with scan counts (one
    of a screen deleted since), and heartbeats."""
    config = {}
    if request.param == "postgresql":
        config["DATABASE_URL"] = request.getfixturevalue("postgres_url")
    app = fresh_app(**config)
    with session_for(app) as session:
        booking_id = hold(session, start=days_from_today(200)).booking.id
        portrait_ids = list(session.scalars(select(Portrait.id).order_by(Portrait.id)))[:2]
    engine = engine_of(app)
    command.downgrade(alembic_config(engine), "0005")
    now = dt.datetime(2027, 3, 1, 15, 0, tzinfo=dt.UTC)
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM screens"))
        for screen_id, slug, booking, donate, signup in (
            (11, "salle", booking_id, True, False),
            (12, "hall", None, False, True),
        ):
            connection.execute(
                text(
                    "INSERT INTO screens (id, slug, name, booking_id, languages, "
                    "languages_together, seconds_per_slide, all_portraits, show_donate, "
                    "show_signup, is_default, created_at) VALUES (:id, :slug, :slug, :booking, "
                    "'fr,es,en', false, 12, false, :donate, :signup, :default, :now)"
                ),
                dict(
                    id=screen_id,
                    slug=slug,
                    booking=booking,
                    donate=donate,
                    signup=signup,
                    default=screen_id == 11,
                    now=now,
                ),
            )
        for position, portrait_id in enumerate(portrait_ids):
            connection.execute(
                text("INSERT INTO screen_portraits VALUES (11, :portrait, :position)"),
                dict(portrait=portrait_id, position=position),
            )
        for link_id, code, screen, target, portrait, purpose in (
            (21, "aaaaaaa", 11, "donate", None, "donate"),
            (22, "bbbbbbb", 12, "signup", None, "signup"),
            (23, "ccccccc", 11, "portrait", portrait_ids[0], f"portrait:{portrait_ids[0]}"),
            (24, "ddddddd", None, "donate", None, "donate"),
        ):
            connection.execute(
                text(
                    "INSERT INTO qr_links (id, code, screen_id, target, portrait_id, purpose, "
                    "created_at) VALUES (:id, :code, :screen, :target, :portrait, :purpose, :now)"
                ),
                dict(
                    id=link_id,
                    code=code,
                    screen=screen,
                    target=target,
                    portrait=portrait,
                    purpose=purpose,
                    now=now,
                ),
            )
        for link_id, day, scans in ((21, 1, 5), (21, 2, 7), (22, 1, 3), (23, 3, 9), (24, 4, 2)):
            connection.execute(
                text("INSERT INTO scan_counts VALUES (:link, :day, :scans)"),
                dict(link=link_id, day=dt.date(2027, 3, day), scans=scans),
            )
        for minute in range(3):
            connection.execute(
                text("INSERT INTO screen_heartbeats VALUES (11, :minute, 'p', 'v1')"),
                dict(minute=now + dt.timedelta(minutes=minute)),
            )
    return app


def _kept(engine) -> dict[str, list[tuple[Any, ...]]]:  # type: ignore[no-untyped-def]
    """Every row 0006 must keep (the screens less their two dropped columns)."""
    queries = {
        "screens": "SELECT id, slug, name, booking_id, languages, seconds_per_slide, "
        "all_portraits, is_default FROM screens",
        "screen_portraits": "SELECT * FROM screen_portraits",
        "qr_links": "SELECT id, code, screen_id, target, portrait_id, purpose FROM qr_links",
        "scan_counts": "SELECT * FROM scan_counts",
        "screen_heartbeats": "SELECT screen_id, portrait_slug, bundle_version "
        "FROM screen_heartbeats",
    }
    with engine.connect() as connection:
        return {
            table: sorted(tuple(row) for row in connection.execute(text(query)))
            for table, query in queries.items()
        }


def _codes_shown(engine) -> list[tuple[int, str]]:  # type: ignore[no-untyped-def]
    with engine.connect() as connection:
        return [
            tuple(row)
            for row in connection.execute(
                text(
                    "SELECT screen_id, key FROM screen_targets JOIN scan_targets "
                    "ON scan_targets.id = target_id ORDER BY screen_id, screen_targets.position"
                )
            )
        ]


def test_migration_0006_keeps_every_screen_link_count_and_heartbeat(database_at_0005):
    engine = engine_of(database_at_0005)
    before = _kept(engine)
    assert len(before["scan_counts"]) == 5 and len(before["screen_heartbeats"]) == 3

    command.upgrade(alembic_config(engine), "head")
    assert _kept(engine) == before
    assert _codes_shown(engine) == [
        (11, "donate"),
        (11, "membership"),
        (12, "signup"),
        (12, "membership"),
    ]
    command.downgrade(alembic_config(engine), "0005")
    assert _kept(engine) == before
    command.upgrade(alembic_config(engine), "head")
    assert _kept(engine) == before


def test_migration_0006_downgrade_keeps_the_codes_each_screen_showed(database_at_0005):
    engine = engine_of(database_at_0005)
    command.upgrade(alembic_config(engine), "head")
    command.downgrade(alembic_config(engine), "0005")
    with engine.connect() as connection:
        flags = connection.execute(
            text("SELECT id, show_donate, show_signup FROM screens ORDER BY id")
        ).all()
    assert [(id_, bool(donate), bool(signup)) for id_, donate, signup in flags] == [
        (11, True, False),
        (12, False, True),
    ]
