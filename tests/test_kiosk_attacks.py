"""What a stranger, a confused phone or a broken screen may send the kiosk's public addresses
(/kiosk/…, /q/…, /p/…) and the staff's screens page: odd, long, crafted or racing requests
get an answer (never an error page), lead nowhere but the stored destinations, keep nothing
about the visitor, and change nothing a GET or HEAD should not."""

from __future__ import annotations

import dataclasses
import json
import logging
import re
import threading
import time
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

import kiosk.links
from core.clock import now_utc, today_local
from core.database import session_for
from core.staff.models import AuditEvent
from kiosk.links import portrait_purpose
from kiosk.models import Heartbeat, QrLink, ScanCount, Screen, ScreenPortrait, ScreenTarget
from kiosk.screens import ScreenSettings, create_screen, default_screen, links_of_screen
from media.portraits import update_portrait
from tests.factories import (
    A_PORTRAIT,
    hold,
    portrait_with_sizes,
    screen_form,
    staff_post,
    training_day,
)
from tests.test_shortlinks import _every_row

HEARTBEAT = "/kiosk/accueil/heartbeat"
LONG = "x" * 10_000
# Path segments a phone, a scanner or a script may put where a slug or a code goes.
ODD_SEGMENTS = [
    LONG,
    "é" * 7,
    "%C3%A9" * 7,
    "%F0%9F%98%80" * 7,
    "%ED%A0%80abcdef",  # a lone surrogate, percent-encoded
    "%FF%FE%FD",  # not UTF-8 at all
    "abc%00def",
    "abc%0Adef",
    "%2e%2e",
    "..%2F..%2Fstaff",
    "9" * 40,
    "-1",
    "accueil%20",
    "ACCUEIL",
    "İİİİİİİ",  # lowercases to more characters than it has
]


def _paths(segment: str) -> list[str]:
    return [
        f"/kiosk/{segment}",
        f"/kiosk/{segment}/bundle.json",
        f"/kiosk/qr/{segment}.svg",
        f"/q/{segment}",
        f"/q/{segment}/x",
        f"/p/{segment}",
        f"/p/p-00000000?screen={segment}&lang={segment}&utm_content={segment}",
        f"/staff/screens/{segment}",
        f"/staff/screens/{segment}/delete",
    ]


def _no_error_page(client: FlaskClient, paths: list[str]) -> list[tuple[str, str, int]]:
    """Each path asked for and sent to with every method: what answered 500 (none should)."""
    failures = []
    for path in paths:
        for method in ("GET", "HEAD", "POST", "PUT", "DELETE"):
            status = client.open(path, method=method).status_code
            if status >= 500:
                failures.append((method, path, status))
    return failures


def test_odd_addresses_on_every_kiosk_route_get_an_answer_not_an_error(client):
    paths = [path for segment in ODD_SEGMENTS for path in _paths(segment)]
    assert _no_error_page(client, paths) == []


def test_odd_addresses_on_the_staff_screens_pages_get_an_answer(admin_client):
    paths = [path for segment in ODD_SEGMENTS for path in _paths(segment)]
    paths += ["/staff/screens/" + "9" * 30, "/staff/screens/0", "/staff/screens/2147483648"]
    assert _no_error_page(admin_client, paths) == []


def _heartbeat(client: FlaskClient, body: Any) -> int:
    data = body if isinstance(body, bytes) else json.dumps(body)
    return client.post(HEARTBEAT, data=data, content_type="application/json").status_code


def _report(**item: Any) -> dict[str, Any]:
    return {"reports": [{"seconds_ago": 0, "portrait": "p-1", "bundle_version": "v", **item}]}


def _heartbeats(session: Session) -> int:
    session.rollback()
    return session.scalar(select(func.count()).select_from(Heartbeat))


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(_report(seconds_ago=10**20), id="seconds-ago-beyond-any-date"),
        pytest.param(_report(seconds_ago=2**63), id="seconds-ago-2**63"),
    ],
)
def test_a_report_from_before_any_date_is_dropped_not_an_error(client, session, body):
    status = _heartbeat(client, body)
    assert status == 200
    assert _heartbeats(session) == 0


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"[" * 100_000 + b"]" * 100_000, id="nested-100000-deep"),
        pytest.param(_report(portrait="p-\ud800"), id="lone-surrogate-in-portrait"),
        pytest.param(_report(bundle_version="\udfff"), id="lone-surrogate-in-version"),
        pytest.param(_report(portrait="p-\x00"), id="nul-in-portrait"),
        pytest.param(_report(bundle_version="v\x00"), id="nul-in-version"),
        pytest.param(_report(portrait="p-1\r\nX-Evil: 1"), id="line-break-in-portrait"),
    ],
)
def test_a_heartbeat_with_text_no_screen_sends_is_refused(client, session, body):
    assert _heartbeat(client, body) == 400
    assert _heartbeats(session) == 0


def _waiting_on_a_lock(app: Flask) -> bool:
    with session_for(app) as watcher:
        return bool(
            watcher.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                    "AND datname = current_database()"
                )
            )
        )


def test_two_processes_making_a_screens_codes_at_once_get_the_same_codes(
    postgres_url, fresh_app, monkeypatch
):
    """Two phones open the default screen's first pages through two server processes: the
    second waits on the first's new rows, then takes them, rather than making others."""
    app = fresh_app(DATABASE_URL=postgres_url)
    drawn = []

    def new_code() -> str:  # a bound on the draws, should a retry never end
        drawn.append(1)
        if len(drawn) > 100:
            raise RuntimeError("still drawing codes")
        return original()

    original = kiosk.links.new_code
    monkeypatch.setattr(kiosk.links, "new_code", new_code)
    first_ready, first_may_commit = threading.Event(), threading.Event()
    found: dict[str, Any] = {}

    def make(name: str, hold_commit: bool) -> None:
        try:
            with session_for(app) as session:
                if hold_commit:
                    commit = session.commit

                    def held() -> None:
                        first_ready.set()
                        first_may_commit.wait(30)
                        commit()

                    session.commit = held  # type: ignore[method-assign]
                links = links_of_screen(session, default_screen(session), [], now_utc())
                found[name] = {purpose: link.code for purpose, link in links.items()}
        except Exception as error:  # noqa: BLE001 - the test reports it
            found[name] = error

    first = threading.Thread(target=make, args=("first", True))
    first.start()
    assert first_ready.wait(30), "the first process did not get to its commit"
    second = threading.Thread(target=make, args=("second", False))
    second.start()
    for _ in range(100):
        if _waiting_on_a_lock(app):
            break
        time.sleep(0.05)
    first_may_commit.set()
    first.join(30)
    second.join(30)

    assert found["first"] == found["second"]
    with session_for(app) as session:  # one link per target the screen chose, not two
        targets = session.scalar(select(func.count()).select_from(ScreenTarget))
        assert session.scalar(select(func.count()).select_from(QrLink)) == targets


def test_odd_addresses_and_reports_get_an_answer_on_postgresql_too(postgres_url, fresh_app):
    """PostgreSQL refuses a NUL in text and checks lengths: nothing odd reaches a query."""
    app = fresh_app(DATABASE_URL=postgres_url)
    client = app.test_client()
    paths = [path for segment in ODD_SEGMENTS for path in _paths(segment)]
    assert _no_error_page(client, paths) == []
    assert _heartbeat(client, _report(seconds_ago=10**20)) == 200


def test_a_heartbeat_with_a_nul_is_refused_on_postgresql(postgres_url, fresh_app):
    client = fresh_app(DATABASE_URL=postgres_url).test_client()
    assert _heartbeat(client, _report(portrait="p-\x00")) == 400
    assert _heartbeat(client, _report(bundle_version="\x00")) == 400


def _screens(session: Session) -> int:
    session.rollback()
    return session.scalar(select(func.count()).select_from(Screen))


def test_staff_naming_tens_of_thousands_of_portraits_get_a_message(staff_client, session):
    """A crafted form (or a script) naming more portraits than a query may carry."""
    before = _screens(session)
    crafted = screen_form(portraits="chosen", portrait_ids=[str(n) for n in range(1, 40_001)])
    response = staff_post(staff_client, "/staff/screens/new", crafted)
    assert response.status_code == 422
    assert "portrait_ids-error" in response.get_data(as_text=True)
    assert _screens(session) == before


def test_a_screen_form_without_its_token_changes_nothing(admin_client, session):
    """A page elsewhere posting to the staff's screens, with the staff's cookie."""
    accueil = default_screen(session)
    before = _screens(session)
    forged = [
        ("/staff/screens/new", screen_form()),
        (f"/staff/screens/{accueil.id}", screen_form(name="Pirated")),
        (f"/staff/screens/{accueil.id}/delete", {}),
    ]
    for url, data in forged:
        assert admin_client.post(url, data=data).status_code == 400, url
        assert admin_client.post(url, data={**data, "csrf_token": "x"}).status_code == 400
    assert _screens(session) == before
    assert default_screen(session).name == accueil.name


def test_staff_cannot_attach_a_screen_to_a_training_or_a_made_up_booking(staff_client, session):
    day = training_day(120)
    training = hold(session, offering="formation-bd-textile", start=day, end=day).booking
    before = _screens(session)
    for booking_id in (str(training.id), "0", "-1", "1.0", " 1", "١"):
        response = staff_post(
            staff_client, "/staff/screens/new", screen_form(booking_id=booking_id)
        )
        assert response.status_code == 422, booking_id
    assert _screens(session) == before


def test_the_default_screen_survives_every_way_of_asking_to_delete_it(admin_client, session):
    accueil = default_screen(session)
    for method in ("GET", "HEAD", "DELETE", "PUT"):
        admin_client.open(f"/staff/screens/{accueil.id}/delete", method=method)
    assert staff_post(admin_client, f"/staff/screens/{accueil.id}/delete").status_code == 409
    assert admin_client.get("/kiosk/").status_code == 200
    assert default_screen(session).id == accueil.id


def test_what_a_screen_reports_is_shown_to_staff_as_text_never_run(client, staff_client):
    markup = '<img src=x onerror="alert(1)">'
    assert _heartbeat(client, _report(portrait=markup, bundle_version="<b>v</b>")) == 200

    page = staff_client.get("/staff/screens").get_data(as_text=True)

    assert markup not in page and "<b>v</b>" not in page
    assert "&lt;img src=x" in page


def test_a_code_drawn_twice_is_drawn_again(app, session, monkeypatch):
    taken = links_of_screen(session, default_screen(session), [], now_utc())["donate"].code
    draws = iter([taken, "zzzzzzz", "yyyyyyy"])
    monkeypatch.setattr(kiosk.links, "new_code", lambda: next(draws))
    portrait = portrait_with_sizes(app, session)

    links = links_of_screen(session, default_screen(session), [portrait], now_utc())

    assert links[portrait_purpose(portrait)].code == "zzzzzzz"


def test_a_withdrawn_portrait_is_gone_from_every_kiosk_address(app, client, session):
    """A venue's screen that chose the portrait: its bundle, images, QR image, short link,
    visitor page and that page's own code all stop showing it at once."""
    portrait = portrait_with_sizes(app, session)
    chosen = ScreenSettings(name="Salle des métallos", portrait_ids=(portrait.id,))
    screen = create_screen(session, chosen, "staff@centre.example", now_utc())
    session.commit()
    slide = client.get(f"/kiosk/{screen.slug}/bundle.json").get_json()["slides"][0]
    story = urlsplit(slide["story"]["url"]).path
    visitor = f"/p/{portrait.slug}?screen={screen.slug}&lang=es"
    page = client.get(visitor).get_data(as_text=True)
    # The page passes the story on with the very code the screen shows.
    assert re.findall(r"/kiosk/qr/\w+\.svg", page) == [slide["story"]["qr"]]
    addresses = [slide["story"]["qr"], story, visitor]
    addresses += [image["url"] for sizes in slide["images"].values() for image in sizes]
    assert all(client.get(address).status_code in (200, 302) for address in addresses)

    withdrawn = dataclasses.replace(A_PORTRAIT, consent_withdrawn_on=today_local())
    update_portrait(session, portrait.id, withdrawn, "staff@centre.example", now_utc())
    session.commit()

    assert client.get(f"/kiosk/{screen.slug}/bundle.json").get_json()["slides"] == []
    for address in addresses:
        for method in ("GET", "HEAD"):
            assert client.open(address, method=method).status_code == 404, (method, address)


def test_what_a_visitors_address_carries_is_kept_nowhere(app, client, session, caplog):
    caplog.set_level(logging.DEBUG)
    portrait = portrait_with_sizes(app, session)
    trace = "visitor-5f2c@example.org"
    client.get(f"/p/{portrait.slug}?utm_content={trace}&screen={trace}&lang={trace}")
    code = links_of_screen(session, default_screen(session), [], now_utc())["donate"].code
    client.get(f"/q/{code}?email={trace}", headers={"Referer": f"https://x.example/{trace}"})
    client.get(f"/q/{trace}")

    assert trace not in _every_row(app.config["DATABASE_URL"])
    assert trace not in caplog.text


def _what_staff_and_visitors_see(session: Session) -> tuple[int, ...]:
    session.rollback()
    counted = (Screen, ScreenPortrait, Heartbeat, ScanCount, AuditEvent)
    return tuple(session.scalar(select(func.count()).select_from(model)) for model in counted)


def test_asking_for_any_kiosk_address_changes_nothing_anyone_sees(app, admin_client, session):
    """GET and HEAD (a link preview, a prefetch, a crawler): only the lazy codes are made."""
    app.config["MEMBERSHIP_URL"] = "https://www.ciso.qc.ca/devenir-membre/"  # every code leads
    portrait = portrait_with_sizes(app, session)
    chosen = ScreenSettings(name="Salle des métallos", portrait_ids=(portrait.id,))
    screen = create_screen(session, chosen, "staff@centre.example", now_utc())
    session.commit()
    codes = links_of_screen(session, screen, [portrait], now_utc())
    before = _what_staff_and_visitors_see(session)
    addresses = [
        "/kiosk/",
        f"/kiosk/{screen.slug}",
        f"/kiosk/{screen.slug}/bundle.json",
        f"/kiosk/{screen.slug}/heartbeat",
        f"/p/{portrait.slug}?screen={screen.slug}",
        "/staff/screens",
        f"/staff/screens/{screen.id}",
        f"/staff/screens/{screen.id}/delete",
    ]
    addresses += [f"/kiosk/qr/{link.code}.svg" for link in codes.values()]
    for address in addresses:
        for method in ("GET", "HEAD", "OPTIONS"):
            assert admin_client.open(address, method=method).status_code < 500
    for link in codes.values():
        assert admin_client.head(f"/q/{link.code}").status_code == 302
        assert admin_client.options(f"/q/{link.code}").status_code == 200

    assert _what_staff_and_visitors_see(session) == before
