"""Bad input from a union or a script: a clear message, nothing stored, never a 500."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from markupsafe import escape
from sqlalchemy import func, select

from booking.availability import BOOKING_HORIZON_YEARS
from booking.models import Booking
from core.clock import today_local
from core.database import session_for
from core.models import OutboxMessage
from tests.factories import csrf_token, form_data, post_form

EN = {"Accept-Language": "en"}
FORM_URL = "/book/expo-interieure"  # lead time 21 days, 3 to 42 days long, indoor venues
API_URL = "/api/v1/bookings"
TODAY = today_local()
START = TODAY + dt.timedelta(days=60)
MARKUP = "<script>alert(1)</script>"
TEXT_FIELDS = ("organization", "contact_name", "venue", "address", "city", "notes", "phone")

REQUIRED = "This field is required."
NOT_A_DATE = "Enter a date as YYYY-MM-DD."
NOT_AN_EMAIL = "Enter a valid email address"
AUDIENCE_RANGE = "Enter a number from 1 to 100000."
MUST_BE_TEXT = "Must be text."
MUST_BE_NUMBER = "Must be a whole number."
MUST_BE_YES_NO = "Must be true or false."
HORIZON = f"We take requests up to {BOOKING_HORIZON_YEARS} years ahead."


def day(offset: int) -> str:
    return (TODAY + dt.timedelta(days=offset)).isoformat()


def in_words(offset: int) -> str:
    """The day as an English sentence writes it ("December 19, 2026")."""
    date = TODAY + dt.timedelta(days=offset)
    return f"{date:%B} {date.day}, {date.year}"


def valid_form(**changes: Any) -> dict[str, str]:
    """A request the form accepts, for START to START + 4; None leaves a field out."""
    data = form_data(start=START)
    for name, value in changes.items():
        if value is None:
            data.pop(name, None)
        else:
            data[name] = str(value)
    return data


def valid_json(**changes: Any) -> dict[str, Any]:
    """The same request as a script sends it to the API; None leaves a field out."""
    data: dict[str, Any] = {**form_data(start=START), "offering": "expo-interieure"}
    data.update(
        audience=int(data["audience"]),
        wall_metres=int(data["wall_metres"]),
        secure_storage=data["secure_storage"] == "yes",
    )
    for name, value in changes.items():
        if value is None:
            data.pop(name, None)
        else:
            data[name] = value
    return data


def what_is_stored(app: Flask) -> tuple[int, int, list[str]]:
    """Bookings, outbox rows, and .eml files waiting in the data dir's outbox folder."""
    with app.app_context(), session_for(app) as session:
        bookings = session.scalar(select(func.count()).select_from(Booking))
        messages = session.scalar(select(func.count()).select_from(OutboxMessage))
    folder = Path(app.config["DATA_DIR"]) / "outbox"
    return bookings, messages, sorted(path.name for path in folder.glob("*.eml"))


@pytest.fixture
def nothing_stored(app: Flask) -> Callable[[], None]:
    """Call it after the request: nothing was written to the database or the outbox folder."""
    before = what_is_stored(app)

    def check() -> None:
        assert what_is_stored(app) == before, "a refused request left something behind"

    return check


class FormPage(HTMLParser):
    """The form as a person sees it again: each field's value and the error printed beside it."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.values: dict[str, str] = {}
        self.errors: dict[str, str] = {}
        self._into: dict[str, str] | None = None
        self._name = ""
        self._select = ""
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = {key: value or "" for key, value in attrs}
        name = attr.get("name", "")
        if tag == "input" and name and attr.get("type") != "radio":
            self.values[name] = attr.get("value", "")
        elif tag == "input" and name and "checked" in attr:
            self.values[name] = attr.get("value", "")
        elif tag == "textarea":
            self._into, self._name = self.values, name
            self.values[name] = ""
        elif tag == "select":
            self._select = name
        elif tag == "option" and self._select and "selected" in attr:
            self.values[self._select] = attr.get("value", "")
        elif tag == "p" and "field-error" in attr.get("class", "").split():
            self._into, self._name = self.errors, attr["id"].removesuffix("-error")
            self.errors[self._name] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag in ("textarea", "p"):
            self._into = None
        elif tag == "select":
            self._select = ""

    def handle_data(self, data: str) -> None:
        if self._into is not None:
            self._into[self._name] += data

    def value(self, name: str) -> str:
        return self.values.get(name, "").removeprefix("\r\n").removeprefix("\n")


def send_form(client, data: dict[str, str], url: str = FORM_URL):
    return post_form(client, url, data, headers=EN)


def send_json(client, body: Any):
    return client.post(API_URL, json=body, headers=EN)


def assert_form_refused(response, errors: dict[str, str], sent: dict[str, str]) -> FormPage:
    """422, each message beside its field, and what the union typed still in the form."""
    assert response.status_code == 422
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert "Please correct the fields marked below." in html
    page = FormPage(html)
    for field, message in errors.items():
        assert message in page.errors.get(field, ""), (field, page.errors)
        assert re.search(rf'aria-describedby="[^"]*\b{field}-error"', html), field
    for field, value in sent.items():
        if field == "language" and value not in ("fr", "en"):
            continue  # a choice the list does not offer cannot be shown selected
        assert page.value(field) == value.strip(), field  # kept, less edge spaces
    return page


def assert_api_refused(response, errors: dict[str, str]) -> dict[str, str]:
    assert response.status_code == 422
    assert response.is_json
    answer = response.get_json()["errors"]
    for field, message in errors.items():
        assert message in answer.get(field, ""), (field, answer)
    return answer


# (what the union sends, the message it should read beside each field), for both channels.
BAD_REQUESTS = [
    pytest.param(
        {"start": day(60), "end": day(55)},
        {"end": "The last day must be on or after the first day."},
        id="end-before-start",
    ),
    pytest.param(
        {"start": day(-10), "end": day(-6)},
        {"start": "This date is in the past."},
        id="start-in-the-past",
    ),
    pytest.param(
        {"start": day(10), "end": day(14)},
        {"start": f"Requests must be made 21 days ahead: the earliest start is {in_words(21)}."},
        id="start-inside-lead-time",
    ),
    pytest.param({"start": "2027-02-30"}, {"start": NOT_A_DATE}, id="february-30"),
    pytest.param({"end": "2027-13-01"}, {"end": NOT_A_DATE}, id="month-13"),
    pytest.param({"start": "tomorrow"}, {"start": NOT_A_DATE}, id="start-in-words"),
    pytest.param({"start": "31/03/2027"}, {"start": NOT_A_DATE}, id="start-day-first"),
    pytest.param({"start": ""}, {"start": ""}, id="start-empty"),
    pytest.param({"end": ""}, {"end": ""}, id="end-empty"),
    pytest.param(
        {"start": day(3 * 366 + 100), "end": day(3 * 366 + 104)},
        {"start": HORIZON},
        id="beyond-three-years",
    ),
    pytest.param(
        {"start": "9999-12-27", "end": "9999-12-31"},
        {"start": HORIZON},
        id="year-9999",
    ),
    pytest.param(
        {"end": "9999-12-31"}, {"end": "booked for at most 42 days"}, id="end-in-year-9999"
    ),
    pytest.param(
        {"start": "0001-01-01", "end": "0001-01-05"},
        {"start": "This date is in the past."},
        id="year-1",
    ),
    pytest.param(
        {"end": (START + dt.timedelta(days=42)).isoformat()},
        {"end": "This offering is booked for at most 42 days."},
        id="43-days",
    ),
    pytest.param(
        {"end": (START + dt.timedelta(days=1)).isoformat()},
        {"end": "This offering is booked for at least 3 days."},
        id="2-days",
    ),
    pytest.param({"email": None}, {"email": REQUIRED}, id="email-missing"),
    pytest.param({"email": ""}, {"email": REQUIRED}, id="email-empty"),
    pytest.param({"email": "ana@"}, {"email": NOT_AN_EMAIL}, id="email-without-domain"),
    pytest.param({"email": "ana example.org"}, {"email": NOT_AN_EMAIL}, id="email-without-at"),
    pytest.param(
        {"email": "ana@example.org, bob@example.org"}, {"email": NOT_AN_EMAIL}, id="two-emails"
    ),
    pytest.param({"organization": None}, {"organization": REQUIRED}, id="organization-missing"),
    pytest.param({"organization": "   "}, {"organization": REQUIRED}, id="organization-blank"),
    pytest.param({"contact_name": None}, {"contact_name": REQUIRED}, id="contact-missing"),
    pytest.param({"phone": None}, {"phone": REQUIRED}, id="phone-missing"),
    pytest.param(
        {"phone": "call me"},
        {"phone": "Enter a phone number, like 514-383-2266, ext. 225."},
        id="phone-in-words",
    ),
    pytest.param(
        {"venue": None, "address": None, "city": None},
        {"venue": REQUIRED, "address": REQUIRED, "city": REQUIRED},
        id="place-missing",
    ),
    pytest.param(
        {"start": None, "end": None}, {"start": REQUIRED, "end": REQUIRED}, id="dates-missing"
    ),
    pytest.param({"language": None}, {"language": REQUIRED}, id="language-missing"),
    pytest.param({"audience": None}, {"audience": REQUIRED}, id="audience-missing"),
    pytest.param({"audience": 0}, {"audience": AUDIENCE_RANGE}, id="audience-0"),
    pytest.param({"audience": -5}, {"audience": AUDIENCE_RANGE}, id="audience-negative"),
    pytest.param({"audience": 10**9}, {"audience": AUDIENCE_RANGE}, id="audience-billion"),
    pytest.param(
        {"organization": "x" * 201},
        {"organization": "At most 200 characters."},
        id="organization-too-long",
    ),
    pytest.param({"notes": "x" * 2001}, {"notes": "At most 2000 characters."}, id="notes-too-long"),
    pytest.param(
        {"wall_metres": None, "secure_storage": None},
        {
            "wall_metres": "how many metres of wall",
            "secure_storage": "whether the crates can be stored securely",
        },
        id="venue-questions-missing",
    ),
    pytest.param(
        {"wall_metres": 0}, {"wall_metres": "Enter a number from 1 to 1000."}, id="no-wall"
    ),
    pytest.param({"language": "de"}, {"language": ""}, id="language-not-offered"),
]


@pytest.mark.parametrize(("changes", "errors"), BAD_REQUESTS)
def test_union_sees_what_to_fix_beside_the_field_and_nothing_is_held(
    client, nothing_stored, changes, errors
):
    sent = valid_form(**changes)
    page = assert_form_refused(send_form(client, sent), errors, sent)
    assert set(errors) <= set(page.errors)
    assert all(page.errors[field].strip() for field in errors), "an empty message"
    nothing_stored()


@pytest.mark.parametrize(("changes", "errors"), BAD_REQUESTS)
def test_script_gets_each_field_error_as_json_and_nothing_is_held(
    client, nothing_stored, changes, errors
):
    answer = assert_api_refused(send_json(client, valid_json(**changes)), errors)
    assert all(answer[field].strip() for field in errors), "an empty message"
    nothing_stored()


def test_union_typing_words_for_the_audience_is_asked_for_a_number(client, nothing_stored):
    sent = valid_form(audience="lots")
    assert_form_refused(send_form(client, sent), {"audience": "Enter a whole number."}, sent)
    nothing_stored()


def test_form_for_an_offering_that_does_not_exist_is_a_404_page(client, nothing_stored):
    token = csrf_token(client, FORM_URL)
    response = client.post(
        "/book/no-such-offering", data={**valid_form(), "csrf_token": token}, headers=EN
    )
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert "This page does not exist" in response.get_data(as_text=True)
    nothing_stored()


@pytest.mark.parametrize(
    ("offering", "message"),
    [
        pytest.param("no-such-offering", "Unknown offering.", id="unknown"),
        pytest.param(None, REQUIRED, id="missing"),
        pytest.param("", REQUIRED, id="empty"),
    ],
)
def test_script_naming_no_real_offering_is_told_so(client, nothing_stored, offering, message):
    assert_api_refused(send_json(client, valid_json(offering=offering)), {"offering": message})
    nothing_stored()


@pytest.mark.parametrize(
    ("changes", "errors"),
    [
        pytest.param({"organization": 42}, {"organization": MUST_BE_TEXT}, id="number-for-name"),
        pytest.param({"phone": 5143832266}, {"phone": MUST_BE_TEXT}, id="number-for-phone"),
        pytest.param({"start": 20270301}, {"start": MUST_BE_TEXT}, id="number-for-date"),
        pytest.param({"offering": 3}, {"offering": MUST_BE_TEXT}, id="number-for-offering"),
        pytest.param({"email": True}, {"email": MUST_BE_TEXT}, id="true-for-email"),
        pytest.param({"city": ["Montréal", "Laval"]}, {"city": MUST_BE_TEXT}, id="array-for-city"),
        pytest.param({"venue": {"name": "Salle"}}, {"venue": MUST_BE_TEXT}, id="object-for-venue"),
        pytest.param({"language": ["fr"]}, {"language": MUST_BE_TEXT}, id="array-for-language"),
        pytest.param({"audience": "80"}, {"audience": MUST_BE_NUMBER}, id="string-for-audience"),
        pytest.param({"audience": "lots"}, {"audience": MUST_BE_NUMBER}, id="words-for-audience"),
        pytest.param({"audience": True}, {"audience": MUST_BE_NUMBER}, id="true-for-audience"),
        pytest.param({"audience": 80.5}, {"audience": MUST_BE_NUMBER}, id="fraction-for-audience"),
        pytest.param({"audience": [80]}, {"audience": MUST_BE_NUMBER}, id="array-for-audience"),
        pytest.param(
            {"audience": {"n": 80}}, {"audience": MUST_BE_NUMBER}, id="object-for-audience"
        ),
        pytest.param({"audience": 10**40}, {"audience": AUDIENCE_RANGE}, id="huge-audience"),
        pytest.param({"wall_metres": "25"}, {"wall_metres": MUST_BE_NUMBER}, id="string-for-wall"),
        pytest.param(
            {"secure_storage": "true"},
            {"secure_storage": MUST_BE_YES_NO},
            id="string-true-for-storage",
        ),
        pytest.param({"secure_storage": 1}, {"secure_storage": MUST_BE_YES_NO}, id="1-for-storage"),
        pytest.param(
            {"secure_storage": ["yes"]}, {"secure_storage": MUST_BE_YES_NO}, id="array-for-storage"
        ),
        pytest.param(
            {"organization": 1, "audience": "many", "secure_storage": "no"},
            {
                "organization": MUST_BE_TEXT,
                "audience": MUST_BE_NUMBER,
                "secure_storage": MUST_BE_YES_NO,
            },
            id="several-wrong-types",
        ),
    ],
)
def test_script_sending_wrong_json_types_is_told_which_field(
    client, nothing_stored, changes, errors
):
    assert_api_refused(send_json(client, valid_json(**changes)), errors)
    nothing_stored()


@pytest.mark.parametrize(
    "body",
    [
        pytest.param([valid_json()], id="array"),
        pytest.param("a string", id="string"),
        pytest.param(42, id="number"),
        pytest.param(True, id="true"),
    ],
)
def test_script_sending_something_other_than_an_object_is_asked_for_one(
    client, nothing_stored, body
):
    assert_api_refused(send_json(client, body), {"body": "Send a JSON object."})
    nothing_stored()


def test_script_sending_json_null_gets_a_clear_refusal(client, nothing_stored):
    response = client.post(API_URL, data="null", content_type="application/json", headers=EN)
    assert response.status_code in (400, 422)
    answer = response.get_json()
    assert answer.get("error") or answer.get("errors", {}).get("body")
    nothing_stored()


@pytest.mark.parametrize(
    ("data", "content_type"),
    [
        pytest.param(json.dumps(valid_json()), "text/plain", id="json-as-text-plain"),
        pytest.param(
            "organization=Syndicat", "application/x-www-form-urlencoded", id="form-encoded"
        ),
        pytest.param(json.dumps(valid_json()), None, id="no-content-type"),
        pytest.param("<booking/>", "application/xml", id="xml"),
    ],
)
def test_script_not_sending_json_is_told_to_send_json(client, nothing_stored, data, content_type):
    response = client.post(API_URL, data=data, content_type=content_type, headers=EN)
    assert response.status_code == 415
    assert response.is_json
    assert "Content-Type: application/json" in response.get_json()["error"]
    nothing_stored()


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"{bad", id="not-json"),
        pytest.param(b'{"organization": }', id="missing-value"),
        pytest.param(json.dumps(valid_json()).encode()[:-10], id="cut-short"),
        pytest.param(json.dumps(valid_json()).encode() + b" {}", id="two-documents"),
        pytest.param(b"", id="empty"),
        pytest.param(b"{'organization': 'single quotes'}", id="single-quotes"),
        pytest.param(b'\xff\xfe{"a": 1}', id="not-utf8"),
        pytest.param(b"[" * 30_000 + b"]" * 30_000, id="nested-30000-deep"),
    ],
)
def test_script_sending_malformed_json_gets_a_400_in_json(client, nothing_stored, data):
    response = client.post(API_URL, data=data, content_type="application/json", headers=EN)
    assert response.status_code == 400
    assert response.is_json
    assert response.get_json()["error"] == "The body is not valid JSON."
    nothing_stored()


def test_script_sending_text_that_cannot_be_stored_is_told_which_field(client, nothing_stored):
    # A lone UTF-16 surrogate is valid JSON but is not Unicode text any database can keep.
    body = json.dumps(valid_json(organization="Syndicat \ud800"))
    response = client.post(API_URL, data=body, content_type="application/json", headers=EN)
    assert_api_refused(response, {"organization": ""})
    nothing_stored()


def test_script_sending_more_than_a_mebibyte_gets_413_in_json(client, nothing_stored):
    response = send_json(client, valid_json(notes="x" * (1024 * 1024 + 1)))
    assert response.status_code == 413
    assert response.is_json
    assert response.get_json()["error"] == "What you sent is too large."
    nothing_stored()


def test_union_sending_more_than_a_mebibyte_sees_a_page_saying_so(client, nothing_stored):
    response = send_form(client, valid_form(notes="x" * (1024 * 1024 + 1)))
    assert response.status_code == 413
    assert response.mimetype == "text/html"
    assert "What you sent is too large." in response.get_data(as_text=True)
    nothing_stored()


def private_page_after_sending(client, channel: str, **changes: Any):
    """Send through the form or the API; the private page if accepted, else the refusal."""
    if channel == "form":
        response = send_form(client, valid_form(**changes))
        if response.status_code != 303:
            return response
        location = response.headers["Location"]
    else:
        response = send_json(client, valid_json(**changes))
        if response.status_code != 201:
            return response
        location = response.get_json()["manage_url"]
    return client.get(urlsplit(location).path, headers=EN)


@pytest.mark.parametrize("channel", ["form", "api"])
@pytest.mark.parametrize("field", [name for name in TEXT_FIELDS if name != "phone"])
def test_markup_in_a_text_field_is_shown_as_typed_never_run(client, channel, field):
    typed = f"Syndicat {MARKUP} & co"
    response = private_page_after_sending(client, channel, **{field: typed})
    html = response.get_data(as_text=True)
    assert response.status_code == 200, html[:500]
    assert "Request AMB-" in html
    assert str(escape(typed)) in html
    assert "<script>" not in html


@pytest.mark.parametrize("channel", ["form", "api"])
def test_markup_for_a_phone_number_is_refused_and_shown_back_escaped(
    client, nothing_stored, channel
):
    typed = f"514-383-2266 {MARKUP}"
    response = private_page_after_sending(client, channel, phone=typed)
    assert response.status_code == 422
    if channel == "api":
        assert "Enter a phone number" in response.get_json()["errors"]["phone"]
    else:
        html = response.get_data(as_text=True)
        page = FormPage(html)
        assert "Enter a phone number" in page.errors["phone"]
        assert page.value("phone") == typed
        assert str(escape(typed)) in html
        assert "<script>" not in html
    nothing_stored()


def test_markup_in_every_field_is_kept_escaped_when_the_form_comes_back(client, nothing_stored):
    sent = valid_form(email="not an email", **{field: f"{field} {MARKUP}" for field in TEXT_FIELDS})
    response = send_form(client, sent)
    page = assert_form_refused(response, {"email": NOT_AN_EMAIL}, sent)
    html = response.get_data(as_text=True)
    assert "<script>" not in html
    for field in TEXT_FIELDS:
        assert page.value(field) == f"{field} {MARKUP}"
        assert str(escape(f"{field} {MARKUP}")) in html
    nothing_stored()


@pytest.fixture(params=["sqlite", "postgresql"])
def any_database_app(request, fresh_app) -> Flask:
    """The app on the default SQLite file, and on PostgreSQL when a test server is given."""
    if request.param == "sqlite":
        return request.getfixturevalue("app")
    return fresh_app(DATABASE_URL=request.getfixturevalue("postgres_url"))


@pytest.mark.parametrize("channel", ["form", "api"])
@pytest.mark.parametrize(
    "typed",
    [
        pytest.param("Syndicat\r\nBcc: someone@example.org", id="line-break"),
        pytest.param("Syndicat\x00", id="nul"),
    ],
)
def test_control_characters_in_a_name_get_an_answer_not_an_error_page(
    any_database_app, channel, typed
):
    """Pasted or scripted control characters are refused, or cleaned before anything is kept;
    either way the union gets an answer and no half-written message stays in the outbox."""
    app = any_database_app
    client = app.test_client()
    before = what_is_stored(app)
    response = private_page_after_sending(client, channel, organization=typed)
    bookings, messages, files = what_is_stored(app)
    assert len(files) == messages, f"{files} on disk for {messages} outbox rows"
    assert response.status_code < 500
    if response.status_code == 422:
        assert (bookings, messages, files) == before
        errors = (
            response.get_json()["errors"]
            if channel == "api"
            else FormPage(response.get_data(as_text=True)).errors
        )
        assert errors.get("organization", "").strip()
    else:
        assert response.status_code == 200
        with app.app_context(), session_for(app) as session:
            kept = session.scalars(select(Booking.organization)).one()
        assert not any(ord(character) < 32 for character in kept), repr(kept)


def test_form_without_its_token_is_refused_and_says_to_reload(client, nothing_stored):
    response = client.post(FORM_URL, data=valid_form(), headers=EN)
    assert response.status_code == 400
    assert "This form has expired. Please reload the page and send it again." in (
        response.get_data(as_text=True)
    )
    nothing_stored()


def test_form_with_a_forged_token_is_refused(client, nothing_stored):
    client.get(FORM_URL)
    response = client.post(FORM_URL, data={**valid_form(), "csrf_token": "forged"}, headers=EN)
    assert response.status_code == 400
    assert "This form has expired" in response.get_data(as_text=True)
    nothing_stored()


def test_robot_filling_the_hidden_field_is_refused_and_nothing_is_held(client, nothing_stored):
    response = send_form(client, valid_form(leave_empty="https://spam.example"))
    assert response.status_code == 400
    assert "Your request could not be sent." in response.get_data(as_text=True)
    # a person whose browser filled it can send again: the field comes back empty
    assert "spam.example" not in response.get_data(as_text=True)
    nothing_stored()


@pytest.mark.parametrize(
    "path",
    [
        "/bookings/not-a-real-token",
        "/bookings/" + "x" * 500,
        "/bookings/not-a-real-token/calendar.ics",
        "/bookings/not-a-real-token/cancel",
    ],
)
def test_wrong_private_link_shows_a_page_not_found(client, path):
    valid = send_form(client, valid_form())
    assert valid.status_code == 303  # a real booking exists; the wrong link must not reach it
    response = client.get(path, headers=EN)
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert "This link does not work" in html or (
        "This page does not exist, or the link is no longer valid." in html
    )
    assert "Syndicat des cols bleus" not in html


@pytest.mark.parametrize(
    ("language", "changes", "field", "message"),
    [
        pytest.param(
            "fr", {"email": None}, "email", "Ce champ est obligatoire.", id="french-field"
        ),
        pytest.param("en", {"email": None}, "email", REQUIRED, id="english-field"),
        pytest.param(
            "fr",
            {"start": day(-10), "end": day(-6)},
            "start",
            "Cette date est déjà passée.",
            id="french-rule",
        ),
        pytest.param(
            "en",
            {"start": day(-10), "end": day(-6)},
            "start",
            "This date is in the past.",
            id="english-rule",
        ),
    ],
)
def test_script_reads_errors_in_the_language_it_asks_for(client, language, changes, field, message):
    response = client.post(
        API_URL, json=valid_json(**changes), headers={"Accept-Language": language}
    )
    assert response.status_code == 422
    assert response.get_json()["errors"][field] == message


@pytest.mark.parametrize(
    ("language", "message"),
    [
        pytest.param("fr", "Envoyez la demande en JSON", id="french"),
        pytest.param("en", "Send the request as JSON", id="english"),
    ],
)
def test_script_not_sending_json_reads_why_in_its_language(client, language, message):
    response = client.post(
        API_URL, data="x", content_type="text/plain", headers={"Accept-Language": language}
    )
    assert response.status_code == 415
    assert message in response.get_json()["error"]
