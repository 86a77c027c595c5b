"""Administrators keep the offerings: titles, rules and units change from the staff area, the
public pages and the API follow at once, and holds made under the old rules stand."""

from __future__ import annotations

import datetime as dt
import re
from html import unescape
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from booking.models import MAX_BUFFER_DAYS, MAX_LENGTH_DAYS, Booking, Offering, Unit
from booking.offering_admin import REMINDER_MAX_DAYS
from core.database import session_for
from core.staff.models import AuditEvent, Role
from tests.factories import (
    days_from_today,
    hold,
    sign_in,
    staff_account,
    staff_post,
)
from tests.url_map import path_of, rules

EN = {"Accept-Language": "en"}
SLUG = "expo-interieure"
SETTINGS_URL = f"/staff/offerings/{SLUG}"
SETTINGS_FIELDS = (
    "title_fr",
    "title_en",
    "description_fr",
    "description_en",
    "buffer_before_days",
    "buffer_after_days",
    "min_days",
    "max_days",
    "lead_days",
    "reminder_days",
    "active",
)


def stored_settings(session, slug: str = SLUG) -> dict[str, Any]:
    session.rollback()  # a fresh read: what the app committed since
    offering = session.scalar(select(Offering).where(Offering.slug == slug))
    return {name: getattr(offering, name) for name in SETTINGS_FIELDS}


def settings_form(session, slug: str = SLUG, **changes: Any) -> dict[str, str]:
    """The settings form as the page shows it, with the admin's changes typed in."""
    values = {**stored_settings(session, slug), **changes}
    data = {name: str(value) for name, value in values.items() if name != "active"}
    if values["active"]:
        data["active"] = "y"
    return data


def units_of(session, slug: str = SLUG) -> dict[str, bool]:
    session.rollback()
    units = session.scalars(
        select(Unit).join(Offering).where(Offering.slug == slug).order_by(Unit.position, Unit.id)
    )
    return {unit.name: unit.active for unit in units}


def unit_id(session, name: str) -> int:
    return session.scalar(select(Unit.id).where(Unit.name == name))


def events(session) -> int:
    session.rollback()
    return session.scalar(select(func.count()).select_from(AuditEvent))


def page_text(response) -> str:
    return unescape(response.get_data(as_text=True))


def field_error(response, field: str) -> str:
    match = re.search(rf'id="{field}-error">([^<]*)<', response.get_data(as_text=True))
    assert match, f"no message under {field}"
    return unescape(match[1])


def typed_value(response, field: str) -> str:
    html = response.get_data(as_text=True)
    match = re.search(rf'<input[^>]*id="{field}"[^>]*value="([^"]*)"', html) or re.search(
        rf'<input[^>]*value="([^"]*)"[^>]*id="{field}"', html
    )
    assert match, f"no input {field}"
    return unescape(match[1])


def save(client: FlaskClient, data: dict[str, str], slug: str = SLUG):
    return staff_post(client, f"/staff/offerings/{slug}", data, headers=EN)


def availability(client: FlaskClient, slug: str, start: dt.date, end: dt.date) -> dict:
    response = client.get(
        f"/api/v1/availability?offering={slug}&start={start.isoformat()}&end={end.isoformat()}"
    )
    assert response.status_code == 200
    return {day["date"]: day["status"] for day in response.get_json()["days"]}


# --- settings ------------------------------------------------------------------------------


def test_admin_changes_titles_and_rules_and_the_public_pages_show_them_at_once(
    admin_client, client, session
):
    # The public pages are drawn (and kept) before the change.
    assert "Portraits on the road" not in page_text(client.get("/", headers=EN))
    assert client.get(f"/offerings/{SLUG}", headers=EN).status_code == 200
    data = settings_form(
        session,
        title_en="Portraits on the road",
        title_fr="Portraits en tournée",
        description_en="Twelve framed portraits.",
        buffer_before_days=4,
        buffer_after_days=5,
        min_days=6,
        max_days=20,
        lead_days=40,
        reminder_days=10,
    )

    response = save(admin_client, data)

    assert response.status_code == 303
    assert response.headers["Location"].endswith(SETTINGS_URL)
    assert "The settings are saved." in page_text(admin_client.get(SETTINGS_URL, headers=EN))
    home = page_text(client.get("/", headers=EN))
    assert "Portraits on the road" in home
    assert "Twelve framed portraits." in home
    assert "From 6 to 20 days" in home
    assert "request at least 40 days ahead" in home
    assert "Portraits en tournée" in page_text(client.get(f"/offerings/{SLUG}", headers={}))
    assert "Portraits on the road" in page_text(client.get(f"/offerings/{SLUG}", headers=EN))
    api = {o["slug"]: o for o in client.get("/api/v1/offerings").get_json()["offerings"]}[SLUG]
    assert (api["buffer_before_days"], api["buffer_after_days"]) == (4, 5)
    assert (api["min_days"], api["max_days"], api["lead_days"]) == (6, 20, 40)
    assert stored_settings(session)["reminder_days"] == 10


def test_union_is_held_to_the_new_rules_right_after_they_are_saved(admin_client, client, session):
    save(admin_client, settings_form(session, min_days=10, max_days=20, lead_days=30))
    too_short = client.get(
        f"/book/{SLUG}/check",
        query_string={"start": days_from_today(60).isoformat(), "end": days_from_today(63)},
        headers=EN,
    )
    assert "at least 10 days" in page_text(too_short)
    too_soon = client.get(
        f"/book/{SLUG}/check",
        query_string={"start": days_from_today(25).isoformat(), "end": days_from_today(36)},
        headers=EN,
    )
    assert "30 days ahead" in page_text(too_soon)


def test_an_offering_no_longer_offered_leaves_the_public_pages(admin_client, client, session):
    title = stored_settings(session)["title_en"]
    assert title in page_text(client.get("/", headers=EN))

    save(admin_client, settings_form(session, active=False))

    assert title not in page_text(client.get("/", headers=EN))
    assert client.get(f"/offerings/{SLUG}").status_code == 404
    slugs = [o["slug"] for o in client.get("/api/v1/offerings").get_json()["offerings"]]
    assert SLUG not in slugs
    # Staff still find it, marked as not offered, and can offer it again.
    listing = page_text(admin_client.get("/staff/offerings", headers=EN))
    assert title in listing and "not offered" in listing
    save(admin_client, settings_form(session, active=True))
    assert title in page_text(client.get("/", headers=EN))


TOO_LONG = "x" * 201


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        pytest.param(
            {"min_days": "10", "max_days": "5"},
            "max_days",
            "cannot be shorter than the shortest (10 days)",
            id="min-over-max",
        ),
        pytest.param(
            {"buffer_before_days": "-1"}, "buffer_before_days", "from 0 to", id="negative-buffer"
        ),
        pytest.param(
            {"buffer_after_days": str(MAX_BUFFER_DAYS + 1)},
            "buffer_after_days",
            f"from 0 to {MAX_BUFFER_DAYS} days",
            id="buffer-over-limit",
        ),
        pytest.param(
            {"max_days": str(MAX_LENGTH_DAYS + 1)},
            "max_days",
            f"from 1 to {MAX_LENGTH_DAYS} days",
            id="length-over-limit",
        ),
        pytest.param({"min_days": "0"}, "min_days", "from 1 to", id="zero-length"),
        pytest.param({"lead_days": "-3"}, "lead_days", "from 0 to", id="negative-lead"),
        pytest.param({"lead_days": "9" * 40}, "lead_days", "from 0 to", id="huge-lead"),
        pytest.param(
            {"reminder_days": str(REMINDER_MAX_DAYS + 1)},
            "reminder_days",
            f"from 0 to {REMINDER_MAX_DAYS} days",
            id="reminder-over-a-year",
        ),
        pytest.param({"reminder_days": "-1"}, "reminder_days", "from 0", id="negative-reminder"),
        pytest.param({"lead_days": "soon"}, "lead_days", "whole number", id="not-a-number"),
        pytest.param({"min_days": "2.5"}, "min_days", "whole number", id="not-whole"),
        pytest.param({"buffer_before_days": ""}, "buffer_before_days", "whole number", id="empty"),
        pytest.param({"title_en": "   "}, "title_en", "Give the offering a title", id="no-title"),
        pytest.param({"title_fr": TOO_LONG}, "title_fr", "under 200 characters", id="long-title"),
        pytest.param(
            {"title_en": "Expo\r\nBcc: x@example.org"}, "title_en", "one line", id="title-lines"
        ),
        pytest.param(
            {"description_en": "y" * 4001},
            "description_en",
            "under 4000 characters",
            id="long-description",
        ),
        pytest.param(
            {"description_fr": "Portraits\x00"},
            "description_fr",
            "control character",
            id="nul-in-description",
        ),
    ],
)
def test_admin_gets_a_message_on_the_field_and_nothing_changes(
    admin_client, client, session, changes, field, message
):
    before, logged = stored_settings(session), events(session)
    home = page_text(client.get("/", headers=EN))

    response = save(admin_client, {**settings_form(session), **changes})

    assert response.status_code == 422
    assert message in field_error(response, field)
    assert "Nothing was changed" in page_text(response)
    if not field.startswith("description"):  # typed back into the field, to correct
        assert typed_value(response, field) == changes[field]
    assert stored_settings(session) == before
    assert events(session) == logged
    assert page_text(client.get("/", headers=EN)) == home


def test_every_wrong_field_is_named_at_once(admin_client, session):
    before = stored_settings(session)
    response = save(
        admin_client,
        settings_form(session, title_fr="", buffer_before_days="-2", lead_days="two", max_days=999),
    )
    assert response.status_code == 422
    for field in ("title_fr", "buffer_before_days", "lead_days", "max_days"):
        assert field_error(response, field)
    assert typed_value(response, "lead_days") == "two"
    assert stored_settings(session) == before


def test_an_offering_without_a_unit_in_service_cannot_be_offered(admin_client, session):
    save(admin_client, settings_form(session, active=False))
    for name in ("Caisse A", "Caisse B"):
        retire = f"{SETTINGS_URL}/units/{unit_id(session, name)}/retire"
        assert staff_post(admin_client, retire).status_code == 303

    response = save(admin_client, settings_form(session, active=True))

    assert response.status_code == 422
    assert "needs a unit in service" in field_error(response, "active")
    assert stored_settings(session)["active"] is False


def test_an_unknown_offering_or_unit_is_not_found(admin_client, session):
    assert admin_client.get("/staff/offerings/nothing-here").status_code == 404
    assert save(admin_client, settings_form(session), slug="nothing-here").status_code == 404
    other_unit = unit_id(session, "Panneaux extérieurs")  # another offering's
    for action in ("retire", "restore", "rename"):
        url = f"{SETTINGS_URL}/units/{other_unit}/{action}"
        assert staff_post(admin_client, url, {f"unit-{other_unit}-name": "x"}).status_code == 404
    assert units_of(session, "expo-exterieure") == {"Panneaux extérieurs": True}


# --- who may ------------------------------------------------------------------------------


def test_plain_staff_get_403_on_every_offering_settings_view(app, staff_client, session):
    values = {"slug": SLUG, "unit_id": unit_id(session, "Caisse B")}
    views = [rule for rule in rules(app) if rule.endpoint.startswith("offering_settings.")]
    assert len(views) == 7  # a new view here is covered without a new line
    before, logged = stored_settings(session), events(session)
    for rule in views:
        path = path_of(rule, values)
        if "GET" in rule.methods:
            assert staff_client.get(path).status_code == 403, rule.endpoint
        if "POST" in rule.methods:
            data = {**settings_form(session, title_en="Taken over"), "new-unit-name": "Caisse Z"}
            assert staff_post(staff_client, path, data).status_code == 403, rule.endpoint
    assert stored_settings(session) == before
    assert units_of(session) == {"Caisse A": True, "Caisse B": True}
    assert events(session) == logged


def test_only_administrators_see_offerings_in_the_staff_navigation(staff_client, admin_client):
    link = 'href="/staff/offerings"'
    assert link not in staff_client.get("/staff/log", headers=EN).get_data(as_text=True)
    assert link in admin_client.get("/staff/log", headers=EN).get_data(as_text=True)


def test_the_offerings_page_lists_every_offering_with_its_units_and_rules(admin_client, session):
    retire = f"{SETTINGS_URL}/units/{unit_id(session, 'Caisse B')}/retire"
    staff_post(admin_client, retire)
    page = page_text(admin_client.get("/staff/offerings", headers=EN))
    for offering in session.scalars(select(Offering)):
        assert offering.title_en in page
    assert "Caisse A" in page and "Caisse B" in page and "(retired)" in page
    assert "3 to 42 days" in page  # the indoor set's rules
    assert "2 days before, 2 after" in page
    assert "21 days ahead" in page


# --- units --------------------------------------------------------------------------------


def test_admin_adds_renames_retires_and_restores_units(admin_client, client, session):
    units_url = f"{SETTINGS_URL}/units"
    response = staff_post(admin_client, units_url, {"new-unit-name": " Caisse C "}, headers=EN)
    assert response.status_code == 303
    assert units_of(session) == {"Caisse A": True, "Caisse B": True, "Caisse C": True}
    api = {o["slug"]: o for o in client.get("/api/v1/offerings").get_json()["offerings"]}
    assert [unit["name"] for unit in api[SLUG]["units"]] == ["Caisse A", "Caisse B", "Caisse C"]

    c = unit_id(session, "Caisse C")
    response = staff_post(admin_client, f"{units_url}/{c}/rename", {f"unit-{c}-name": "Caisse D"})
    assert response.status_code == 303
    response = staff_post(admin_client, f"{units_url}/{c}/retire", headers=EN)
    assert response.status_code == 303
    assert "is retired" in page_text(admin_client.get(SETTINGS_URL, headers=EN))
    assert units_of(session) == {"Caisse A": True, "Caisse B": True, "Caisse D": False}
    api = {o["slug"]: o for o in client.get("/api/v1/offerings").get_json()["offerings"]}
    assert [unit["name"] for unit in api[SLUG]["units"]] == ["Caisse A", "Caisse B"]

    assert staff_post(admin_client, f"{units_url}/{c}/restore").status_code == 303
    assert units_of(session) == {"Caisse A": True, "Caisse B": True, "Caisse D": True}


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "Give the unit a name."),
        ("   ", "Give the unit a name."),
        ("caisse a", "already has a unit named caisse a"),
        ("x" * 121, "under 120 characters"),
        ("Caisse\nC", "one line"),
    ],
)
def test_a_unit_name_must_be_given_and_set_apart(admin_client, session, name, message):
    logged = events(session)
    units_url = f"{SETTINGS_URL}/units"
    b = unit_id(session, "Caisse B")

    added = staff_post(admin_client, units_url, {"new-unit-name": name}, headers=EN)
    renamed = staff_post(
        admin_client, f"{units_url}/{b}/rename", {f"unit-{b}-name": name}, headers=EN
    )

    assert added.status_code == renamed.status_code == 422
    assert message in field_error(added, "new-unit-name")
    assert message in field_error(renamed, f"unit-{b}-name")
    if name.strip():
        assert typed_value(added, "new-unit-name") == name
        assert typed_value(renamed, f"unit-{b}-name") == name
    assert units_of(session) == {"Caisse A": True, "Caisse B": True}
    assert events(session) == logged


def test_a_unit_keeps_its_own_name_in_another_case(admin_client, session):
    b = unit_id(session, "Caisse B")
    url = f"{SETTINGS_URL}/units/{b}/rename"
    assert staff_post(admin_client, url, {f"unit-{b}-name": "CAISSE B"}).status_code == 303
    assert units_of(session) == {"Caisse A": True, "CAISSE B": True}


def test_retiring_a_unit_takes_its_dates_out_and_keeps_its_bookings(
    admin_client, client, session, today
):
    start = days_from_today(60)
    end = start + dt.timedelta(days=4)
    on_a = hold(session, start=start, end=end).booking
    assert on_a.unit.name == "Caisse A"
    # Caisse B is still free on those dates, and offered.
    assert availability(client, SLUG, start, end)[start.isoformat()] == "free"
    later = start + dt.timedelta(days=30)
    on_b = hold(session, start=later, end=later + dt.timedelta(days=4)).booking
    on_b_again = hold(session, start=later, end=later + dt.timedelta(days=4)).booking
    assert on_b_again.unit.name == "Caisse B"

    b = unit_id(session, "Caisse B")
    response = staff_post(admin_client, f"{SETTINGS_URL}/units/{b}/retire", headers=EN)

    assert response.status_code == 303
    # Caisse A's dates are no longer offered: the only unit left holds them.
    assert availability(client, SLUG, start, end)[start.isoformat()] != "free"
    assert "no longer fit this offering's rules: 1" in page_text(
        admin_client.get(SETTINGS_URL, headers=EN)
    )
    # Caisse B's booking stands, on its page, and the dashboard flags it.
    booking_page = page_text(admin_client.get(f"/staff/bookings/{on_b_again.reference}"))
    assert "Caisse B" in booking_page
    assert session.get(Booking, on_b_again.id).status == "requested"
    dashboard = page_text(admin_client.get("/staff/", headers=EN))
    rule_breaks = dashboard.split("Holds that no longer fit")[1]
    assert on_b_again.reference in rule_breaks and "on a retired unit" in rule_breaks
    assert on_b.reference not in rule_breaks


def test_retiring_the_last_unit_in_service_is_refused(admin_client, client, session):
    only = unit_id(session, "Panneaux extérieurs")
    logged = events(session)
    url = f"/staff/offerings/expo-exterieure/units/{only}/retire"

    response = staff_post(admin_client, url, headers=EN)

    assert response.status_code == 409
    assert "last unit in service" in page_text(response)
    assert units_of(session, "expo-exterieure") == {"Panneaux extérieurs": True}
    assert events(session) == logged
    # Once the offering is no longer offered, its last unit may go too.
    save(admin_client, settings_form(session, "expo-exterieure", active=False), "expo-exterieure")
    assert staff_post(admin_client, url).status_code == 303
    assert units_of(session, "expo-exterieure") == {"Panneaux extérieurs": False}


# --- holds under old rules, and the log ----------------------------------------------------


def test_a_hold_made_under_the_old_rules_stands_and_the_dashboard_lists_it(admin_client, session):
    start = days_from_today(60)
    held = hold(session, start=start, end=start + dt.timedelta(days=9)).booking  # 10 days
    blocked = (held.blocked_start, held.blocked_end)

    response = save(admin_client, settings_form(session, max_days=7, buffer_before_days=5))

    assert response.status_code == 303
    notice = page_text(admin_client.get(SETTINGS_URL, headers=EN))
    assert "Holds that no longer fit this offering's rules: 1" in notice
    assert "They stand; the dashboard lists them." in notice
    session.rollback()
    kept = session.get(Booking, held.id)
    assert kept.status == "requested"
    assert (kept.blocked_start, kept.blocked_end) == blocked
    dashboard = page_text(admin_client.get("/staff/", headers=EN))
    rule_breaks = dashboard.split("Holds that no longer fit")[1]
    assert held.reference in rule_breaks
    assert "length outside" in rule_breaks and "fewer transit days" in rule_breaks


def test_saving_rules_every_hold_fits_says_nothing_about_the_dashboard(admin_client, session):
    hold(session, start=days_from_today(60), end=days_from_today(64))
    save(admin_client, settings_form(session, max_days=30))
    page = page_text(admin_client.get(SETTINGS_URL, headers=EN))
    assert "The settings are saved." in page
    assert "no longer fit" not in page


def test_every_change_is_in_the_log_with_what_it_was_and_became(admin_client, session):
    save(admin_client, settings_form(session, title_en="Portraits on the road", lead_days=28))
    b = unit_id(session, "Caisse B")
    units_url = f"{SETTINGS_URL}/units"
    staff_post(admin_client, units_url, {"new-unit-name": "Caisse C"})
    staff_post(admin_client, f"{units_url}/{b}/rename", {f"unit-{b}-name": "Caisse Bleue"})
    staff_post(admin_client, f"{units_url}/{b}/retire")
    staff_post(admin_client, f"{units_url}/{b}/restore")

    session.rollback()
    logged = session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    assert [(e.subject, e.subject_key, e.action, e.actor) for e in logged] == [
        ("offering", SLUG, action, "admin@centre.example")
        for action in ("settings", "unit added", "unit renamed", "unit retired", "unit restored")
    ]
    # Only what changed: the French title and the other rules are not in the event.
    assert '"lead_days": 21' in logged[0].before and '"lead_days": 28' in logged[0].after
    assert "title_fr" not in logged[0].before + logged[0].after
    log = page_text(admin_client.get("/staff/log", headers=EN))
    for label in (
        "offering settings changed",
        "unit added",
        "unit renamed",
        "unit retired",
        "unit restored",
    ):
        assert label in log
    assert "title_en: Photo exhibition: pepenadores and valoristes — indoor set" in log
    assert "title_en: Portraits on the road" in log
    assert "unit: Caisse B" in log and "unit: Caisse Bleue" in log
    assert "active: True" in log and "active: False" in log
    # The offering's own page shows its history too.
    assert "unit renamed" in page_text(admin_client.get(SETTINGS_URL, headers=EN))


def test_saving_without_a_change_adds_nothing_to_the_log(admin_client, session):
    logged = events(session)
    assert save(admin_client, settings_form(session)).status_code == 303
    assert events(session) == logged


# --- PostgreSQL ----------------------------------------------------------------------------


@pytest.fixture(params=["sqlite", "postgresql"])
def any_database_app(request, fresh_app) -> Flask:
    if request.param == "sqlite":
        return request.getfixturevalue("app")
    return fresh_app(DATABASE_URL=request.getfixturevalue("postgres_url"))


def test_admin_changes_settings_and_units_on_either_database(any_database_app):
    app = any_database_app
    admin, public = app.test_client(), app.test_client()
    with session_for(app) as session:
        sign_in(admin, staff_account(session, "admin@centre.example", Role.ADMIN).email)
        assert "Portraits on the road" not in page_text(public.get("/", headers=EN))
        response = save(admin, settings_form(session, title_en="Portraits on the road"))
        assert response.status_code == 303
        assert "Portraits on the road" in page_text(public.get("/", headers=EN))
        refused = save(admin, settings_form(session, description_en="Portraits\x00"))
        assert refused.status_code == 422
        b = unit_id(session, "Caisse B")
        retired = staff_post(admin, f"{SETTINGS_URL}/units/{b}/retire")
        assert retired.status_code == 303
        assert units_of(session) == {"Caisse A": True, "Caisse B": False}
