"""A visitor scans a QR code: /q/<code> leads where staff set it to lead (never where the
address or the request says), a code that leads nowhere says so kindly, each scan adds one
to its code's count for the Montréal day, exactly, however many phones scan at once, and
nothing about the visitor is kept anywhere."""

from __future__ import annotations

import dataclasses
import datetime as dt
import http.client
import json
import logging
import time
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from sqlalchemy import create_engine, inspect, select, text
from sqlalchemy.orm import Session

import core.clock
from core.clock import now_utc, today_local
from kiosk.links import count_scan, portrait_purpose
from kiosk.models import QrLink, ScanCount
from kiosk.screens import (
    ScreenSettings,
    create_screen,
    default_screen,
    delete_screen,
    links_of_screen,
)
from media.models import Portrait
from tests.factories import portrait_with_sizes
from tests.servers import HOST, SharedDatabase, read_back
from tests.test_visitor_page import Page, venue_screen

PUBLIC_URL = "https://ambulante.example.org"
DONATE_URL = "https://dons.example.org/donner?campagne=printemps&utm_source=site"
SIGNUP_URL = "https://infolettre.example.org/inscription"
EN = {"Accept-Language": "en"}
FRIENDLY = "Ce code ne mène plus nulle part"
# Who scanned, as their phone tells it: none of it may be written anywhere.
ADDRESS = "203.0.113.77"
FORWARDED_ADDRESS = "198.51.100.23"
AGENT = "PhoneOfVisitor/9.1 (distinctive-agent-5f2c)"
COOKIE_VALUE = "cookie-of-visitor-c0ffee42"
VISITOR_HEADERS = {
    "User-Agent": AGENT,
    "X-Forwarded-For": FORWARDED_ADDRESS,
    "Cookie": f"tracker={COOKIE_VALUE}",
}
TRACES = (ADDRESS, FORWARDED_ADDRESS, AGENT, "distinctive-agent", COOKIE_VALUE)


@pytest.fixture
def app_config() -> dict[str, Any]:
    return {"PUBLIC_URL": PUBLIC_URL, "DONATE_URL": DONATE_URL, "SIGNUP_URL": SIGNUP_URL}


@pytest.fixture
def codes(session) -> dict[str, str]:
    """The default screen's donate and signup codes, by target."""
    links = links_of_screen(session, default_screen(session), [], now_utc())
    return {target: links[target].code for target in ("donate", "signup")}


def scans(session: Session, code: str, day: dt.date | None = None) -> int:
    session.rollback()  # read what the app's requests committed since
    found = session.scalar(
        select(ScanCount.scans)
        .join(QrLink)
        .where(QrLink.code == code, ScanCount.day == (day or today_local()))
    )
    return found or 0


def campaign(location: str) -> list[tuple[str, str]]:
    return parse_qsl(urlsplit(location).query)


def test_a_scan_leads_to_the_stored_target_with_the_campaign(client, session, codes):
    response = client.get(f"/q/{codes['donate']}")

    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith("https://dons.example.org/donner?")
    # The centre's own query stays; ours replaces its utm_source rather than adding a second.
    assert campaign(location) == [
        ("campagne", "printemps"),
        ("utm_source", "ambulante"),
        ("utm_medium", "qr"),
        ("utm_campaign", "accueil"),
    ]
    signup = client.get(f"/q/{codes['signup']}").headers["Location"]
    assert signup == f"{SIGNUP_URL}?utm_source=ambulante&utm_medium=qr&utm_campaign=accueil"
    assert scans(session, codes["donate"]) == 1 and scans(session, codes["signup"]) == 1


def test_a_venues_code_names_its_booking_in_the_campaign(client, session):
    screen = venue_screen(session)
    code = links_of_screen(session, screen, [], now_utc())["signup"].code
    location = client.get(f"/q/{code}").headers["Location"]
    assert dict(campaign(location))["utm_campaign"] == screen.booking.reference


@pytest.mark.parametrize(
    "query",
    [
        "next=https://evil.example",
        "url=//evil.example&redirect=https%3A%2F%2Fevil.example",
        "utm_source=x&utm_medium=email&utm_campaign=evil&utm_content=evil",
        "target=portrait&lang=es",
        "next=" + "x" * 5000,
    ],
)
def test_nothing_in_the_query_string_changes_where_a_scan_leads(client, session, codes, query):
    stored = client.get(f"/q/{codes['donate']}").headers["Location"]

    response = client.get(f"/q/{codes['donate']}?{query}")

    assert response.status_code == 302
    assert response.headers["Location"] == stored
    assert [name for name, _value in campaign(stored)].count("utm_source") == 1


def test_a_code_read_in_capitals_is_the_same_code(client, session, codes):
    stored = client.get(f"/q/{codes['donate']}").headers["Location"]
    response = client.get(f"/q/{codes['donate'].upper()}")
    assert response.status_code == 302 and response.headers["Location"] == stored
    assert scans(session, codes["donate"]) == 2


@pytest.mark.parametrize(
    "path",
    [
        "/q/{code}/../x",
        "/q/{code}//evil.example",
        "/q/{code}/https://evil.example",
        "/q/{code}%2F%2Fevil.example",
        "/q/{code}%2F..%2Fevil",
        "/q/%2F%2Fevil.example",
        "/q/{code}/",
        "/q/{code}x",
        "/q/{code}%0A",
        "/q/{code}%0D%0ALocation:%20https://evil.example",
        "/q/{code}%00",
        "/q/{code}%20",
        "/q/" + "{code}" * 300,
        "/q/",
    ],
)
def test_path_tricks_lead_nowhere_and_count_nothing(client, session, codes, path):
    response = client.get(path.format(code=codes["donate"]), follow_redirects=True)

    assert response.status_code == 404
    for hop in response.history:  # a slash merged by the router: still this site, still /q/
        assert urlsplit(hop.headers["Location"]).netloc in ("", "localhost")
    assert scans(session, codes["donate"]) == 0


def test_another_host_is_refused_and_a_forwarded_one_ignored(client, session):
    portrait = portrait_with_sizes(client.application, session)
    links = links_of_screen(session, default_screen(session), [portrait], now_utc())
    code = links[portrait_purpose(portrait)].code

    assert client.get("//evil.example").status_code == 400
    assert client.get(f"/q/{code}", headers={"Host": "evil.example"}).status_code == 400
    response = client.get(
        f"/q/{code}", headers={"X-Forwarded-Host": "evil.example", "Host": "127.0.0.1"}
    )

    # A portrait's page is on the configured public address, whatever the request says.
    assert response.headers["Location"].startswith(f"{PUBLIC_URL}/p/{portrait.slug}?")


def test_an_unknown_code_gets_a_friendly_page_with_the_centres_pages(client, session):
    response = client.get("/q/zzzzzzz", headers=EN)

    assert response.status_code == 404
    page = Page(response.get_data(as_text=True))
    assert page.lang == "en" and "This code leads nowhere now" in page.text
    assert page.link("The exhibition and the training") == "/"
    assert page.link("Donate to the centre") == DONATE_URL
    assert page.link("Subscribe to the newsletter") == SIGNUP_URL
    assert FRIENDLY in client.get("/q/zzzzzzz").get_data(as_text=True)
    assert session.scalar(select(ScanCount.scans)) is None


def test_a_code_of_a_deleted_screen_is_retired_and_keeps_its_counts(client, session):
    screen = create_screen(session, ScreenSettings(name="Salle syndicale"), "staff@x", now_utc())
    session.commit()
    code = links_of_screen(session, screen, [], now_utc())["donate"].code
    assert client.get(f"/q/{code}").status_code == 302
    session.rollback()

    delete_screen(session, screen.id, "staff@centre.example", now_utc())
    session.commit()

    response = client.get(f"/q/{code}")
    assert response.status_code == 404 and FRIENDLY in Page(response.get_data(as_text=True)).text
    assert client.get(f"/kiosk/qr/{code}.svg").status_code == 404
    assert scans(session, code) == 1, "the scans made while it played are still counted"


def test_a_link_preview_is_not_a_scan(client, session, codes):
    head = client.head(f"/q/{codes['donate']}")
    assert head.status_code == 302 and head.headers["Location"].startswith("https://dons.")
    assert scans(session, codes["donate"]) == 0
    client.get(f"/q/{codes['donate']}")
    assert scans(session, codes["donate"]) == 1


@pytest.mark.parametrize(
    "change",
    [{"consent_withdrawn_on": dt.date(2026, 1, 5)}, {"published": False}],
    ids=["consent withdrawn", "unpublished"],
)
def test_a_portraits_code_leads_nowhere_once_it_may_not_be_shown(client, session, change):
    portrait: Portrait = portrait_with_sizes(client.application, session)
    links = links_of_screen(session, default_screen(session), [portrait], now_utc())
    code = links[portrait_purpose(portrait)].code
    assert client.get(f"/q/{code}").status_code == 302
    session.rollback()
    for name, value in change.items():
        setattr(portrait, name, value)
    session.commit()

    response = client.get(f"/q/{code}")

    assert response.status_code == 404 and "Location" not in response.headers
    assert scans(session, code) == 1, "the scan that led nowhere is not counted"


def test_counts_are_kept_per_code_per_day(session, codes):
    donate, signup = (
        session.scalar(select(QrLink.id).where(QrLink.code == codes[target]))
        for target in ("donate", "signup")
    )
    first, second = dt.date(2027, 2, 28), dt.date(2027, 3, 1)
    for link_id, day in [(donate, first), (donate, first), (donate, second), (signup, first)]:
        count_scan(session, link_id, day)

    rows = session.execute(select(ScanCount.link_id, ScanCount.day, ScanCount.scans)).all()
    assert sorted(rows) == sorted([(donate, first, 2), (donate, second, 1), (signup, first, 1)])


class _Clock:
    """core.clock's view of the time, set to one moment."""

    def __init__(self, moment: dt.datetime) -> None:
        frozen = moment

        class Frozen(dt.datetime):
            @classmethod
            def now(cls, tz: dt.tzinfo | None = None) -> dt.datetime:  # type: ignore[override]
                return frozen.astimezone(tz) if tz else frozen.replace(tzinfo=None)

        self.module = types.SimpleNamespace(datetime=Frozen, UTC=dt.UTC, date=dt.date)


def test_a_late_evening_scan_counts_for_that_day_in_montreal(client, session, codes, monkeypatch):
    # 22:30 in Montréal on 28 February is already 1 March in UTC.
    evening = dt.datetime(2027, 3, 1, 3, 30, tzinfo=dt.UTC)
    monkeypatch.setattr(core.clock, "dt", _Clock(evening).module)
    client.get(f"/q/{codes['donate']}")
    after_midnight = dt.datetime(2027, 3, 1, 5, 30, tzinfo=dt.UTC)  # 00:30 in Montréal
    monkeypatch.setattr(core.clock, "dt", _Clock(after_midnight).module)
    client.get(f"/q/{codes['donate']}")
    client.get(f"/q/{codes['donate']}")

    assert scans(session, codes["donate"], dt.date(2027, 2, 28)) == 1
    assert scans(session, codes["donate"], dt.date(2027, 3, 1)) == 2


# Real servers: phones scanning at once, through two processes on one database.
THREADS = 10
SCANS_PER_THREAD = 20
REQUEST_TIMEOUT_S = 30
SCAN_COUNT_OF = text(
    "SELECT coalesce(sum(s.scans), 0) FROM scan_counts s "
    "JOIN qr_links l ON l.id = s.link_id WHERE l.code = :code"
)


def _get(port: int, path: str, headers: dict[str, str] | None = None) -> tuple[int, str, bytes]:
    connection = http.client.HTTPConnection(HOST, port, timeout=REQUEST_TIMEOUT_S)
    try:
        connection.request("GET", path, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.getheader("Location") or "", response.read()
    finally:
        connection.close()


def _screen_codes(port: int, with_portrait: bool = False) -> dict[str, str]:
    """The default screen's codes, as its bundle gives them (once a portrait plays, when
    asked: the server makes the demo portraits' sizes after it starts)."""
    deadline = time.monotonic() + 60
    while True:
        status, _location, body = _get(port, "/kiosk/accueil/bundle.json")
        assert status == 200
        bundle = json.loads(body)
        if bundle["slides"] or not with_portrait:
            break
        assert time.monotonic() < deadline, "no demo portrait got its sizes"
        time.sleep(0.5)
    found = {code["target"]: code["url"].rsplit("/", 1)[1] for code in bundle["codes"]}
    if bundle["slides"]:
        found["portrait"] = bundle["slides"][0]["story"]["url"].rsplit("/", 1)[1]
    return found


def _every_row(url: str) -> str:
    """Every row of every table, every column, as text."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            tables = inspect(connection).get_table_names()
            assert "scan_counts" in tables and "qr_links" in tables
            dumped = [
                f"{table}: {tuple(row)}"
                for table in tables
                for row in connection.execute(text(f'SELECT * FROM "{table}"'))
            ]
    finally:
        engine.dispose()
    return "\n".join(dumped)


def _files_under(folder: Path) -> bytes:
    return b"\n".join(path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file())


def _assert_no_trace(where: str, what: str | bytes) -> None:
    for trace in TRACES:
        found = trace.encode() in what if isinstance(what, bytes) else trace in what
        assert not found, f"{trace!r} is kept in {where}"


def _visit_as_a_phone(get: Callable[[str], Any], codes: dict[str, str]) -> None:
    """What one visitor's phone does: scans each code, opens the story, its QR code, and a
    code that leads nowhere."""
    for code in codes.values():
        get(f"/q/{code}")
    get("/q/zzzzzzz")


def test_the_tables_and_logs_keep_nothing_about_who_scanned(app, client, session, caplog):
    caplog.set_level(logging.DEBUG)
    portrait = portrait_with_sizes(app, session)
    screen = venue_screen(session)
    links = links_of_screen(session, screen, [portrait], now_utc())
    codes = {purpose: link.code for purpose, link in links.items()}
    session.commit()

    def get(path: str) -> Any:
        return client.get(path, headers=VISITOR_HEADERS, environ_base={"REMOTE_ADDR": ADDRESS})

    _visit_as_a_phone(get, codes)
    story = get(f"/p/{portrait.slug}?lang=es&screen={screen.slug}")
    assert story.status_code == 200
    get(f"/kiosk/qr/{codes[portrait_purpose(portrait)]}.svg")

    assert scans(session, codes["donate"]) == 1
    _assert_no_trace("the tables", _every_row(app.config["DATABASE_URL"]))
    _assert_no_trace("the data dir", _files_under(Path(app.config["DATA_DIR"])))
    _assert_no_trace("the logs", caplog.text)


def test_a_real_server_keeps_nothing_about_who_scanned(
    shared_database: SharedDatabase,
    start_server: Callable[[SharedDatabase, str], int],
    tmp_path: Path,
) -> None:
    # Behind a proxy it trusts, the server takes X-Forwarded-For as the visitor's address.
    behind_a_proxy = dataclasses.replace(
        shared_database, env={**shared_database.env, "AMBULANTE_TRUSTED_PROXIES": "1"}
    )
    port = start_server(behind_a_proxy, "a")
    codes = _screen_codes(port, with_portrait=True)

    def get(path: str) -> tuple[int, str, bytes]:
        return _get(port, path, VISITOR_HEADERS)

    _visit_as_a_phone(get, codes)
    status, location, _body = get(f"/q/{codes['portrait']}")
    assert status == 302
    story = urlsplit(location)
    assert get(f"{story.path}?{story.query}")[0] == 200

    assert read_back(shared_database.url, SCAN_COUNT_OF.bindparams(code=codes["donate"])) == [(1,)]
    _assert_no_trace("the tables", _every_row(shared_database.url))
    _assert_no_trace("the data dir", _files_under(shared_database.data_dir))
    _assert_no_trace("the server's output", (tmp_path / "server-a.log").read_text())
