"""What a screen downloads to play on its own, and what it reports back: the bundle follows
the library and the screen's settings (and nothing else), and heartbeats land in the
minute they were made, whatever the screen's clock says."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from sqlalchemy import func, select

from core.clock import now_utc
from kiosk.heartbeat import Report, record_reports, statuses
from kiosk.links import CODE_ALPHABET, CODE_LENGTH
from kiosk.models import Heartbeat, QrLink
from kiosk.screens import (
    InvalidScreen,
    ScreenSettings,
    create_screen,
    default_screen,
    delete_screen,
)
from media.portraits import update_portrait
from tests.factories import A_PORTRAIT, portrait_with_sizes

BUNDLE = "/kiosk/accueil/bundle.json"


def test_the_default_screen_plays_every_published_portrait_with_its_codes(app, client, session):
    shown = portrait_with_sizes(app, session)
    hidden = portrait_with_sizes(
        app, session, dataclasses.replace(A_PORTRAIT, published=False), colour="red"
    )
    bundle = client.get(BUNDLE).get_json()
    slide = bundle["slides"][0]  # first in the library's order, ahead of the demo ones
    assert slide["portrait"] == shown.slug
    assert slide["captions"]["es"] == "Una valorista en el depósito."
    assert slide["place"] == "Montréal, Canada" and slide["credit"] == "Photographe de test"
    assert {image["width"] for image in slide["images"]["webp"]} == {480, 960, 1920}
    assert [code["target"] for code in bundle["codes"]] == ["donate", "signup"]
    public_url = app.config["PUBLIC_URL"]
    for url in [code["url"] for code in bundle["codes"]] + [slide["story"]["url"]]:
        code = url.removeprefix(f"{public_url}/q/")
        assert len(code) == CODE_LENGTH and set(code) <= set(CODE_ALPHABET)
    assert client.get(slide["story"]["qr"]).mimetype == "image/svg+xml"
    assert hidden.slug not in str(bundle)


def test_a_screen_asks_again_and_gets_the_same_version_and_codes(client, app, session):
    portrait_with_sizes(app, session)
    first, second = client.get(BUNDLE).get_json(), client.get(BUNDLE).get_json()
    assert first == second
    session.commit()  # a fresh look at the database
    links = session.scalar(select(func.count()).select_from(QrLink))
    # One per portrait, and one per target the screen chose: donate, signup, membership (its
    # code ready for when the dues form's address is set).
    assert links == len(first["slides"]) + 3
    assert client.get(BUNDLE).headers["Cache-Control"] == "no-store"


def test_a_withdrawn_consent_changes_the_version_and_leaves_the_screen(app, client, session):
    portrait = portrait_with_sizes(app, session)
    before = client.get(BUNDLE).get_json()
    withdrawn = dataclasses.replace(A_PORTRAIT, consent_withdrawn_on=dt.date(2021, 1, 1))
    update_portrait(session, portrait.id, withdrawn, "staff@centre.example", now_utc())
    session.commit()
    after = client.get(BUNDLE).get_json()
    assert portrait.slug not in [slide["portrait"] for slide in after["slides"]]
    assert after["version"] != before["version"]
    assert client.get(before["slides"][0]["story"]["qr"]).status_code == 404


def test_a_screen_for_a_venue_plays_its_own_choice_in_its_own_languages(app, client, session):
    first = portrait_with_sizes(app, session)
    second = portrait_with_sizes(app, session, colour="navy")
    settings = ScreenSettings(
        name="Salle des métallos",
        languages=("es", "fr"),
        seconds_per_slide=8,
        portrait_ids=(second.id, first.id),
        target_ids=(1,),  # donate alone (migration 0006 made it first)
    )
    screen = create_screen(session, settings, "staff@centre.example", now_utc())
    session.commit()
    bundle = client.get(f"/kiosk/{screen.slug}/bundle.json").get_json()
    assert screen.slug == "salle-des-metallos"
    assert [slide["portrait"] for slide in bundle["slides"]] == [second.slug, first.slug]
    assert bundle["languages"] == ["es", "fr"] and bundle["seconds_per_slide"] == 8
    assert [code["target"] for code in bundle["codes"]] == ["donate"]
    assert client.get(f"/kiosk/{screen.slug}").status_code == 200


def test_an_unknown_screen_is_a_404(client):
    assert client.get("/kiosk/nowhere").status_code == 404
    assert client.get("/kiosk/nowhere/bundle.json").status_code == 404
    assert client.get("/kiosk/" + "x" * 500).status_code == 404


def test_reports_made_offline_land_in_the_minutes_they_were_made(app, client, session):
    version = client.get(BUNDLE).get_json()["version"]
    reports = [
        {"seconds_ago": seconds, "portrait": "p-1", "bundle_version": version}
        for seconds in (3 * 3600, 3 * 3600 - 60, 120, 0)
    ]
    answer = client.post("/kiosk/accueil/heartbeat", json={"reports": reports})
    assert answer.status_code == 200 and answer.get_json() == {"kept": 4}
    minutes = sorted(session.scalars(select(Heartbeat.minute)))
    now = now_utc().replace(tzinfo=None)
    assert now - minutes[0].replace(tzinfo=None) > dt.timedelta(hours=2, minutes=58)
    assert now - minutes[-1].replace(tzinfo=None) < dt.timedelta(minutes=2)
    screen = default_screen(session)
    status = statuses(session, [screen], now_utc(), 60)[screen.id]
    assert status.online and status.portrait_slug == "p-1" and status.bundle_version == version


def test_a_screen_silent_for_a_while_is_offline(session):
    screen = default_screen(session)
    assert not statuses(session, [screen], now_utc(), 60)[screen.id].online
    record_reports(session, screen, [Report(10 * 60, "p-1", "v1")], now_utc())
    status = statuses(session, [screen], now_utc(), 60)[screen.id]
    assert not status.online and status.last_seen is not None


def test_reports_too_old_are_dropped_and_one_minute_keeps_its_latest(session):
    screen = default_screen(session)
    now = now_utc().replace(second=30)
    kept = record_reports(
        session,
        screen,
        [Report(40 * 86_400, "old", "v0"), Report(20, "first", "v1"), Report(5, "last", "v1")],
        now,
    )
    assert kept == 1
    assert list(session.scalars(select(Heartbeat.portrait_slug))) == ["last"]


def test_a_heartbeat_that_is_not_one_is_refused_and_changes_nothing(client, session):
    bad_bodies = [
        None,
        [],
        {"reports": "x"},
        {"reports": [1]},
        {"reports": [{"seconds_ago": -1}]},
        {"reports": [{"seconds_ago": True}]},
        {"reports": [{"seconds_ago": "5"}]},
        {"reports": [{"seconds_ago": 5, "portrait": "x" * 81}]},
        {"reports": [{"seconds_ago": 5, "bundle_version": 7}]},
        {"reports": [{"seconds_ago": 5}] * 501},
    ]
    for body in bad_bodies:
        answer = client.post("/kiosk/accueil/heartbeat", json=body)
        assert answer.status_code == 400, body
    assert client.post("/kiosk/nowhere/heartbeat", json={"reports": []}).status_code == 404
    assert client.get("/kiosk/accueil/heartbeat").status_code == 405
    assert session.scalar(select(func.count()).select_from(Heartbeat)) == 0


def test_the_screen_rules_hold_without_the_form(app, session, client):
    """What a script or a future form might pass the service: refused, or played once."""
    portrait = portrait_with_sizes(app, session)
    for wrong in (
        ScreenSettings(name="Hall", booking_id=2**40),
        ScreenSettings(name="Hall", portrait_ids=(2**40,)),
        ScreenSettings(name="Hall", portrait_ids=(-1,)),
    ):
        with pytest.raises(InvalidScreen):
            create_screen(session, wrong, "staff@centre.example", now_utc())
        session.rollback()
    twice = ScreenSettings(name="Hall", portrait_ids=(portrait.id, portrait.id))
    screen = create_screen(session, twice, "staff@centre.example", now_utc())
    session.commit()
    bundle = client.get(f"/kiosk/{screen.slug}/bundle.json").get_json()
    assert [slide["portrait"] for slide in bundle["slides"]] == [portrait.slug]


def test_a_deleted_screens_address_is_never_given_again(session):
    first = create_screen(session, ScreenSettings(name="Salle"), "admin@centre.example", now_utc())
    session.commit()
    delete_screen(session, first.id, "admin@centre.example", now_utc())
    session.commit()
    second = create_screen(session, ScreenSettings(name="Salle"), "admin@centre.example", now_utc())
    session.commit()
    assert first.slug == "salle" and second.slug.startswith("salle-")


def test_the_membership_code_plays_once_the_dues_form_has_an_address(app, client):
    assert [code["target"] for code in client.get(BUNDLE).get_json()["codes"]] == [
        "donate",
        "signup",
    ]
    app.config["MEMBERSHIP_URL"] = "https://www.ciso.qc.ca/devenir-membre/"
    bundle = client.get(BUNDLE).get_json()
    assert [code["target"] for code in bundle["codes"]] == ["donate", "signup", "membership"]
    assert bundle["words"]["es"]["membership"] == "Hacerse miembro"
    membership = bundle["codes"][2]["url"].rsplit("/", 1)[1]
    answer = client.get(f"/q/{membership}")
    assert answer.headers["Location"].startswith("https://www.ciso.qc.ca/devenir-membre/?")
