"""Who gets into the staff area: every staff address walked from the URL map for anonymous
visitors, plain staff and forged forms; sign-in throttling; what is kept of passwords."""

from __future__ import annotations

import datetime as dt
import logging
import re

import pytest
from sqlalchemy import func, inspect, select, text

from booking.models import Booking
from core.models import OutboxMessage
from core.staff import guards
from core.staff.models import AuditEvent, Role, StaffUser
from tests.factories import (
    STAFF_PASSWORD,
    csrf_token,
    hold,
    sign_in,
    staff_account,
    staff_post,
)
from tests.url_map import every_route, path_of

EN = {"Accept-Language": "en"}


@pytest.fixture
def values(session) -> dict[str, object]:
    held = hold(session)
    return {"reference": held.booking.reference, "token": held.manage_token}


ROUTES = every_route()
STAFF_ROUTES = [
    route
    for route in ROUTES
    if route.rule.startswith("/staff") and route.endpoint not in guards.OPEN_ENDPOINTS
]
STAFF_PAGES = [route for route in STAFF_ROUTES if "GET" in route.methods]
STAFF_FORMS = [route for route in STAFF_ROUTES if "POST" in route.methods]
ADMIN_ROUTES = [route for route in STAFF_ROUTES if route.admin_only]
# The JSON API and the screens' heartbeat are exempt by design (no cookie identity to
# borrow); every other POST, public or staff, needs the token of the visitor's own session.
CSRF_EXEMPT = ("/api/", "/kiosk/<slug>/heartbeat")
FORMS = [
    route for route in ROUTES if "POST" in route.methods and not route.rule.startswith(CSRF_EXEMPT)
]


def test_the_walk_reaches_the_staff_area():
    assert len(STAFF_PAGES) >= 10 and len(STAFF_FORMS) >= 10 and len(ADMIN_ROUTES) >= 5


@pytest.mark.parametrize("route", STAFF_PAGES, ids=str)
def test_anonymous_visitors_are_sent_to_sign_in_from_every_staff_page(app, client, values, route):
    response = client.get(path_of(route.in_(app), values))
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/staff/login?next=")


@pytest.mark.parametrize("route", STAFF_FORMS, ids=str)
def test_anonymous_forms_change_nothing_and_lead_to_sign_in(app, client, session, values, route):
    token = csrf_token(client, "/staff/login")  # a real token: only the sign-in is missing
    before = _stored(session)
    response = client.post(path_of(route.in_(app), values), data={"csrf_token": token})
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/staff/login")
    assert _stored(session) == before


@pytest.mark.parametrize("route", ADMIN_ROUTES, ids=str)
def test_plain_staff_get_403_from_every_administrators_page(
    app, staff_client, session, values, route
):
    before = _stored(session)
    path = path_of(route.in_(app), values)
    if "GET" in route.methods:
        assert staff_client.get(path, headers=EN).status_code == 403
    if "POST" in route.methods:
        response = staff_post(staff_client, path, {}, headers=EN)
        assert response.status_code == 403
        assert "administrators" in response.get_data(as_text=True)
    assert _stored(session) == before


@pytest.mark.parametrize("route", FORMS, ids=str)
def test_every_form_without_its_csrf_token_is_refused(app, admin_client, session, values, route):
    before = _stored(session)
    response = admin_client.post(path_of(route.in_(app), values), data={"decision": "confirmed"})
    assert response.status_code == 400
    assert _stored(session) == before


def _stored(session) -> tuple[object, ...]:
    """What any change would show: every table's row count and the bookings' statuses."""
    session.expire_all()
    counts = tuple(
        session.scalar(select(func.count()).select_from(text(table)))
        for table in sorted(inspect(session.get_bind()).get_table_names())
        if table not in ("login_throttles", "staff_users")
    )
    statuses = tuple(session.scalars(select(Booking.status).order_by(Booking.id)))
    return counts, statuses


def test_staff_sign_in_and_land_where_they_were_going(client, session):
    staff_account(session)
    response = client.get("/staff/blackouts")
    assert response.headers["Location"] == "/staff/login?next=/staff/blackouts"
    page = client.get(response.headers["Location"], headers=EN).get_data(as_text=True)
    assert 'name="next" type="hidden" value="/staff/blackouts"' in page
    signed_in = sign_in(client, "Marie@Centre.example ", next="/staff/blackouts")
    assert signed_in.status_code == 303
    assert signed_in.headers["Location"] == "/staff/blackouts"
    assert client.get("/staff/blackouts").status_code == 200


@pytest.mark.parametrize(
    "going_to",
    [
        "https://evil.example/staff/",
        "//evil.example/staff/",
        "/\\evil.example",
        "/bookings/someone-elses-link",
        "javascript:alert(1)",
        "/staff/\r\nSet-Cookie: x=1",
    ],
)
def test_sign_in_never_sends_staff_off_the_staff_area(client, session, going_to):
    staff_account(session)
    signed_in = sign_in(client, "marie@centre.example", next=going_to)
    assert signed_in.status_code == 303
    assert signed_in.headers["Location"] == "/staff/"


def test_a_new_session_at_sign_in_and_none_after_sign_out(client, session):
    staff_account(session)
    client.get("/staff/login")
    before = client.get_cookie("session").value
    sign_in(client, "marie@centre.example")
    after = client.get_cookie("session")
    assert after.value != before
    stolen = after.value
    staff_post(client, "/staff/logout")
    assert client.get("/staff/").status_code == 302
    client.set_cookie("session", stolen)  # a copy taken while signed in
    assert client.get("/staff/").status_code == 302


@pytest.mark.parametrize("app_config", [{"PUBLIC_URL": "https://ambulante.example.org"}])
def test_session_cookie_is_private_to_the_site(client, session, app_config):
    staff_account(session)
    https = "https://ambulante.example.org"
    page = client.get("/staff/login", base_url=https).get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)[1]
    form = {"email": "marie@centre.example", "password": STAFF_PASSWORD, "csrf_token": token}
    referer = {"Referer": https + "/staff/login"}  # checked by CSRF protection over https
    response = client.post("/staff/login", data=form, base_url=https, headers=referer)
    assert response.status_code == 303
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" in cookie


def test_a_disabled_account_is_signed_out_at_once(staff_client, runner):
    assert staff_client.get("/staff/").status_code == 200
    result = runner.invoke(args=["staff", "disable", "marie@centre.example"])
    assert result.exit_code == 0, result.output
    assert staff_client.get("/staff/").status_code == 302
    assert sign_in(staff_client, "marie@centre.example").status_code == 401


class Clock:
    def __init__(self) -> None:
        self.now = dt.datetime(2027, 3, 1, 14, 0, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture
def clock(monkeypatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr("core.staff.routes.now_utc", clock)
    return clock


THROTTLE = {
    "STAFF_LOGIN_ACCOUNT_FAILURES": "3",
    "STAFF_LOGIN_ADDRESS_FAILURES": "5",
    "STAFF_LOGIN_LOCK_MINUTES": "15",
}


def _problem(response) -> str:  # type: ignore[no-untyped-def]
    match = re.search(r'id="sign-in-problem">([^<]*)<', response.get_data(as_text=True))
    return match[1] if match else ""


@pytest.mark.parametrize("app_config", [THROTTLE])
def test_an_account_locks_after_the_failures_allowed_and_unlocks_after_the_wait(
    client, session, clock, app_config
):
    staff_account(session)
    for _ in range(2):
        assert sign_in(client, "marie@centre.example", "guess", headers=EN).status_code == 401
    locked = sign_in(client, "marie@centre.example", "guess", headers=EN)
    assert locked.status_code == 429
    assert "locked until" in _problem(locked) and "9:15" in _problem(locked)  # Montréal time
    assert int(locked.headers["Retry-After"]) == 15 * 60 + 1
    # The right password is refused too while locked: guessing on gains nothing.
    assert sign_in(client, "marie@centre.example", headers=EN).status_code == 429
    clock.now += dt.timedelta(minutes=14)
    assert sign_in(client, "marie@centre.example", headers=EN).status_code == 429
    clock.now += dt.timedelta(minutes=2)
    assert sign_in(client, "marie@centre.example", headers=EN).status_code == 303


@pytest.mark.parametrize("app_config", [THROTTLE])
def test_one_address_trying_many_accounts_is_locked_too(app, session, clock, app_config):
    staff_account(session)
    guesser = app.test_client()
    for number in range(4):
        response = sign_in(guesser, f"guess{number}@centre.example", "guess", headers=EN)
        assert response.status_code == 401
    assert sign_in(guesser, "other@centre.example", "guess", headers=EN).status_code == 429
    assert sign_in(guesser, "marie@centre.example", headers=EN).status_code == 429
    colleague = app.test_client()
    elsewhere = {"environ_base": {"REMOTE_ADDR": "198.51.100.7"}}
    assert sign_in(colleague, "marie@centre.example", **elsewhere).status_code == 303


@pytest.mark.parametrize("app_config", [THROTTLE])
def test_wrong_password_and_unknown_email_get_the_same_answer(app, session, clock, app_config):
    staff_account(session)
    answers = []
    for email in ("marie@centre.example", "nobody@centre.example"):
        response = sign_in(app.test_client(), email, "not the password", headers=EN)
        page = re.sub(r'value="[^"]*"', "", response.get_data(as_text=True))
        answers.append((response.status_code, page, _problem(response)))
    assert answers[0] == answers[1]
    assert answers[0][2] == "Wrong email or password."
    # Unknown names lock like real ones: a lock says nothing about who has an account.
    for email in ("marie@centre.example", "nobody@centre.example"):
        client = app.test_client()
        for address in range(3):
            environ = {"environ_base": {"REMOTE_ADDR": f"203.0.113.{address}"}}
            last = sign_in(client, email, "guess", headers=EN, **environ)
        assert last.status_code == 429, email


def test_an_email_with_a_control_character_is_answered_like_an_unknown_one(app, session):
    staff_account(session)
    response = sign_in(app.test_client(), "marie@centre.example\x00", headers=EN)
    assert response.status_code == 401 and _problem(response) == "Wrong email or password."


def test_french_staff_read_the_sign_in_page_in_french(client):
    page = client.get("/staff/login", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert "Connexion" in page and "Mot de passe" in page


def test_no_password_is_kept_in_clear_anywhere(app, runner, client, session, caplog):
    caplog.set_level(logging.DEBUG)
    password = "Un mot de passe très long 42"
    created = runner.invoke(args=["staff", "create", "Luc@Centre.example"], input=password + "\n")
    assert created.exit_code == 0, created.output
    assert password not in created.output
    sign_in(client, "luc@centre.example", password)
    sign_in(app.test_client(), "luc@centre.example", password + "!")
    stored = session.scalar(select(StaffUser).where(StaffUser.email == "luc@centre.example"))
    assert stored.password_hash.startswith("$argon2id$")
    for table in inspect(session.get_bind()).get_table_names():
        for row in session.execute(text(f"SELECT * FROM {table}")):
            assert all(password not in str(value) for value in row), table
    assert password not in caplog.text
    assert password not in (app.config["DATA_DIR"] / "ambulante.sqlite3").read_bytes().decode(
        "latin-1"
    )


def test_staff_commands_make_and_keep_accounts(runner, session):
    weak = runner.invoke(args=["staff", "create", "ana@centre.example"], input="short\n")
    assert weak.exit_code != 0 and "12 to 256 characters" in weak.output
    not_email = runner.invoke(args=["staff", "create", "ana"], input=STAFF_PASSWORD + "\n")
    assert not_email.exit_code != 0 and "not an email address" in not_email.output
    made = runner.invoke(
        args=["staff", "create", "ana@centre.example", "--role", "admin"],
        input=STAFF_PASSWORD + "\n",
    )
    assert made.exit_code == 0 and "admin account ana@centre.example" in made.output
    again = runner.invoke(args=["staff", "create", "ANA@centre.example"], input=STAFF_PASSWORD)
    assert again.exit_code != 0 and "already has an account" in again.output
    assert runner.invoke(args=["staff", "disable", "ana@centre.example"]).exit_code == 0
    listed = runner.invoke(args=["staff", "list"]).output
    assert "ana@centre.example\tadmin\tdisabled" in listed
    renewed = runner.invoke(
        args=["staff", "set-password", "ana@centre.example"], input="une phrase bien plus longue\n"
    )
    assert renewed.exit_code == 0
    assert "ana@centre.example\tadmin\tactive" in runner.invoke(args=["staff", "list"]).output
    unknown = runner.invoke(args=["staff", "disable", "nobody@centre.example"])
    assert unknown.exit_code != 0 and "No staff account" in unknown.output
    assert session.scalar(select(func.count()).select_from(StaffUser)) == 1
    assert session.scalar(select(func.count()).select_from(AuditEvent)) == 0
    assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_the_log_refuses_a_page_number_it_cannot_read(staff_client):
    for bad in ("abc", "²", "9" * 40, "-1"):
        assert staff_client.get(f"/staff/log?before={bad}").status_code == 400
    assert staff_client.get("/staff/log?before=5").status_code == 200


def test_roles_are_what_the_navigation_shows(app, session, client):
    staff_account(session, "admin@centre.example", Role.ADMIN)
    sign_in(client, "admin@centre.example")
    assert client.get("/staff/", headers=EN).status_code == 200
