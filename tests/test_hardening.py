"""What a stranger on the open internet may send: nothing but POST changes anything, no text
becomes a mail header, links come from configuration, private files stay private."""

from __future__ import annotations

import base64
import email
import stat
from email import policy
from pathlib import Path
from urllib.parse import urlsplit

import idna
import pytest
from flask import Blueprint
from icalendar import Calendar
from sqlalchemy import func, select

import run
from booking.models import Booking
from core.app import build_app
from core.database import session_for
from core.models import OutboxMessage
from core.web import ViewMixesReadsAndWrites
from tests.factories import (
    api_body,
    csrf_token,
    form_data,
    hold,
    post_form,
    training_day,
)
from tests.url_map import path_of, rules

EN = {"Accept-Language": "en"}


def stored(session) -> tuple[object, ...]:
    """What any change would show: bookings by status and the outbox rows."""
    session.expire_all()
    by_status = session.execute(
        select(Booking.status, func.count()).group_by(Booking.status).order_by(Booking.status)
    ).all()
    return tuple(by_status), session.scalar(select(func.count()).select_from(OutboxMessage))


def test_no_view_answers_both_reads_and_writes(fresh_app):
    mixed = Blueprint("mixed", __name__)
    mixed.add_url_rule("/mixed", "mixed", lambda: "", methods=["GET", "POST"])

    class Careless:
        @staticmethod
        def init_app(app):
            app.register_blueprint(mixed)

    fresh_app()  # a data dir for the next build
    with pytest.raises(ViewMixesReadsAndWrites, match="mixed.mixed"):
        build_app((*run.FEATURES, Careless), {"TESTING": True})


def test_head_and_get_change_nothing_on_any_address_that_takes_a_post(app, admin_client, session):
    client = admin_client  # signed in as an administrator: staff addresses are reached too
    held = hold(session)
    token = held.manage_token
    values = {"token": token, "reference": held.booking.reference}
    # The request form's own fields in the query string too, with a valid CSRF token: what
    # `curl -I` sent to hold dates past the rate limit.
    query = {**form_data(), "csrf_token": csrf_token(client, "/book/expo-interieure")}
    posting = rules(app, "POST")
    assert len(posting) >= 6  # the request form, cancelling, the API, staff decisions…
    for rule in posting:
        path = path_of(rule, values)
        before = stored(session)
        for method in ("HEAD", "GET"):
            client.open(path, method=method, query_string=query)
        assert stored(session) == before, f"{rule.endpoint} changed something on HEAD or GET"
    assert (
        client.get(f"/bookings/{token}", headers=EN)
        .get_data(as_text=True)
        .count("Cancel this request")
    )


ENCODED_ATTACKS = [
    "Syndicat =?utf-8?q?X=0AReply-To:_attacker@evil.example=0ABcc:_a@evil.example?=",
    "=?utf-8?b?"
    + base64.b64encode(b"X\nBcc: victim@evil.example\nContent-Type: text/html\n\n<b>").decode()
    + "?=",
    "=?iso-8859-1?q?X=0D=0ATo:_other@evil.example?=",
    "=?UTF-8?Q?X=0AContent-Type:_multipart/mixed;_boundary=3Dx?=",
    "Syndicat\u2028Bcc: line-separator@evil.example",
    "Syndicat\u2029Reply-To: paragraph@evil.example",
    "Syndicat\x85Bcc: next-line@evil.example",
]
HEADER_BOUND = ["organization", "contact_name", "venue", "address", "city", "notes", "phone"]


def assert_headers_are_the_apps(session) -> None:
    for raw, recipient in session.execute(select(OutboxMessage.raw, OutboxMessage.recipient)):
        message = email.message_from_string(raw, policy=policy.default)
        names = sorted(name.lower() for name in message.keys())
        written = ["from", "to", "subject", "message-id", "mime-version", "content-type"]
        if not message.is_multipart():  # the staff notice: one text part
            written.append("content-transfer-encoding")
        if "reply-to" in names:  # staff notices answer to the union: its checked address alone
            written.append("reply-to")
            assert message["Reply-To"] in set(session.scalars(select(Booking.email)))
        assert names == sorted(written), names
        assert message["To"] == recipient
        for part in message.walk():
            assert part.get_content_type() in ("multipart/mixed", "text/plain", "text/calendar")


@pytest.mark.parametrize("channel", ["form", "api"])
@pytest.mark.parametrize("field", HEADER_BOUND)
@pytest.mark.parametrize("attack", ENCODED_ATTACKS)
def test_text_a_union_typed_never_becomes_a_mail_header(client, session, channel, field, attack):
    if channel == "form":
        response = post_form(client, "/book/expo-interieure", form_data(**{field: attack}))
    else:
        response = client.post("/api/v1/bookings", json=api_body(**{field: attack}))
    assert response.status_code in (201, 303, 422), response.get_data(as_text=True)[:300]
    assert_headers_are_the_apps(session)


@pytest.mark.parametrize(
    "address",
    [
        "=?utf-8?q?X=0ABcc=3A_evil=40evil.example?=@example.org",
        "=?utf-8?b?YQ==?=@example.org",
        "ana\u2028@example.org",
        "ana@example.org\nBcc: evil@evil.example",
    ],
)
@pytest.mark.parametrize("channel", ["form", "api"])
def test_an_address_that_would_become_headers_is_refused(client, session, channel, address):
    if channel == "form":
        response = post_form(client, "/book/expo-interieure", form_data(email=address), headers=EN)
        assert 'id="email-error"' in response.get_data(as_text=True)
    else:
        response = client.post("/api/v1/bookings", json=api_body(email=address), headers=EN)
        assert response.get_json()["errors"]["email"]
    assert response.status_code == 422
    assert stored(session) == ((), 0)


@pytest.mark.parametrize(
    "headers",
    [
        {"X-Forwarded-Host": "evil.example"},
        {"Forwarded": "host=evil.example;proto=https"},
        {"X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "https"},
    ],
)
@pytest.mark.parametrize("proxies", [0, 1])
def test_links_in_mail_and_calendars_come_from_configuration(fresh_app, headers, proxies):
    app = fresh_app(PUBLIC_URL="https://ambulante.example.org", TRUSTED_PROXIES=proxies)
    client = app.test_client()
    response = client.post(
        "/api/v1/bookings", json=api_body(), headers=headers, base_url="https://localhost"
    )
    with session_for(app) as session:
        if proxies and "X-Forwarded-Host" in headers:
            # A host the proxy vouches for is still checked: this one is not the site's.
            assert response.status_code == 400
            assert stored(session) == ((), 0)
            return
        assert response.status_code == 201
        manage_url = response.get_json()["manage_url"]
        assert manage_url.startswith("https://ambulante.example.org/bookings/")
        ics = client.get(f"{urlsplit(manage_url).path}/calendar.ics", headers=headers)
        [event] = Calendar.from_ical(ics.data).walk("VEVENT")
        assert str(event["url"]) == manage_url
        for (raw,) in session.execute(select(OutboxMessage.raw)):
            assert "evil.example" not in raw


@pytest.mark.parametrize("host", ["evil.example", "ambulante.example.org.evil.example", ""])
def test_a_request_naming_another_host_is_refused_and_stores_nothing(fresh_app, host):
    app = fresh_app(PUBLIC_URL="https://ambulante.example.org")
    client = app.test_client()
    response = client.post("/api/v1/bookings", json=api_body(), headers={"Host": host})
    assert response.status_code == 400
    with session_for(app) as session:
        assert stored(session) == ((), 0)


def test_without_a_public_url_links_point_at_the_default_address_not_the_host(fresh_app):
    app = fresh_app()
    response = app.test_client().post("/api/v1/bookings", json=api_body())
    assert response.get_json()["manage_url"].startswith("http://127.0.0.1:8000/bookings/")


def test_with_smtp_and_no_public_url_the_app_refuses_to_start(fresh_app):
    from core.app import PublicUrlMissing

    with pytest.raises(PublicUrlMissing, match="AMBULANTE_PUBLIC_URL"):
        fresh_app(SMTP_HOST="mail.example.org")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_fresh_data_dir_keeps_everything_private_after_a_booking(fresh_app):
    app = fresh_app()
    assert app.test_client().post("/api/v1/bookings", json=api_body()).status_code == 201
    data_dir = Path(app.config["DATA_DIR"])
    files = [path for path in data_dir.rglob("*") if path.is_file()]
    names = {path.name for path in files}
    assert {"ambulante.sqlite3", "ambulante.sqlite3-wal", "secret_key"} <= names
    assert sum(name.endswith(".eml") for name in names) == 2
    assert mode(data_dir) == 0o700 and mode(data_dir / "outbox") == 0o700
    assert {path.name: mode(path) for path in files} == {path.name: 0o600 for path in files}


@pytest.mark.parametrize(
    ("field", "value"),
    [("audience", "1" + "0" * 309), ("wall_metres", "1" + "0" * 309), ("audience", "1e309")],
)
def test_absurd_numbers_on_the_form_get_a_clear_message(client, session, field, value):
    response = post_form(client, "/book/expo-interieure", form_data(**{field: value}), headers=EN)
    assert response.status_code == 422
    assert "Enter" in response.get_data(as_text=True)
    assert stored(session) == ((), 0)


@pytest.mark.parametrize("value", [10**309, 10**1000, 1e308])
@pytest.mark.parametrize("field", ["audience", "wall_metres"])
def test_absurd_numbers_in_the_api_get_a_clear_message(client, session, field, value):
    response = client.post("/api/v1/bookings", json=api_body(**{field: value}), headers=EN)
    assert response.status_code == 422
    assert response.get_json()["errors"][field]
    assert stored(session) == ((), 0)


def test_a_huge_number_in_json_is_a_clear_400(client, session):
    body = '{"audience": 1' + "0" * 5000 + "}"
    response = client.post("/api/v1/bookings", data=body, content_type="application/json")
    assert response.status_code == 400
    assert stored(session) == ((), 0)


@pytest.mark.parametrize(
    "next_path", ["/%0d%0aSet-Cookie:%20x=1", "/%0aLocation:%20//evil", "/\x7f"]
)
def test_the_language_switch_never_writes_a_line_break_into_location(client, next_path):
    response = client.get(f"/lang/en?next={next_path}")
    assert response.status_code == 303
    assert response.headers["Location"] == "/"


def test_the_session_cookie_stays_on_this_site(client):
    client.get("/book/expo-interieure")  # the form's CSRF token starts a session
    cookie = client.get_cookie("session")
    assert cookie is not None
    assert cookie.same_site == "Lax" and cookie.http_only


@pytest.mark.parametrize("channel", ["form", "api"])
def test_an_address_with_an_accented_domain_is_kept_in_its_ascii_form(client, session, channel):
    address = "ana@fédération.qc.ca"
    if channel == "form":
        assert (
            post_form(client, "/book/expo-interieure", form_data(email=address)).status_code == 303
        )
    else:
        assert client.post("/api/v1/bookings", json=api_body(email=address)).status_code == 201
    ascii_domain = idna.encode("fédération.qc.ca").decode()  # IDNA 2008, as mail servers use
    assert session.scalar(select(Booking.email)) == f"ana@{ascii_domain}"
    assert_headers_are_the_apps(session)


@pytest.mark.parametrize("channel", ["form", "api"])
def test_an_address_with_an_accented_name_is_refused_clearly(client, session, channel):
    address = "françois.côté@example.org"  # most mail servers cannot deliver to it
    if channel == "form":
        response = post_form(client, "/book/expo-interieure", form_data(email=address), headers=EN)
        assert "Enter a valid email address" in response.get_data(as_text=True)
    else:
        response = client.post("/api/v1/bookings", json=api_body(email=address), headers=EN)
        assert "Enter a valid email address" in response.get_json()["errors"]["email"]
    assert response.status_code == 422
    assert stored(session) == ((), 0)


NONSENSE_VENUE_ANSWERS = {
    "wall_metres": "abc",
    "venue_setting": "garage",
    "secure_storage": "maybe",
}


def test_a_training_ignores_venue_answers_it_never_asked_for(client, session):
    start = training_day(60)
    form = form_data("formation-bd-textile", start=start, end=start, **NONSENSE_VENUE_ANSWERS)
    assert post_form(client, "/book/formation-bd-textile", form).status_code == 303
    body = api_body("formation-bd-textile", start=start, end=start, **NONSENSE_VENUE_ANSWERS)
    assert client.post("/api/v1/bookings", json=body).status_code == 201
    kept = session.execute(select(Booking.wall_metres, Booking.venue_setting)).all()
    assert kept == [(None, None), (None, None)]
