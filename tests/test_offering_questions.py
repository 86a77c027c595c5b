"""Each offering asks what it needs: the indoor set its walls and locked room, the outdoor set
its site, the training one date, a start time and its participants; Québec's statutory
holidays are closed for the training; phone numbers are read as people write them."""

from __future__ import annotations

import datetime as dt
import json
import re
from email import message_from_string
from html import unescape
from typing import Any

import pytest
from alembic import command
from flask import Flask
from flask_babel import gettext as _
from sqlalchemy import func, select, text

from booking.catalog import offering_by_slug
from booking.errors import InvalidBooking
from booking.holidays import closed_days
from booking.models import Booking, Offering
from booking.phones import read_phone, show_phone
from core.database import engine_of, session_for
from core.migrate import alembic_config
from core.models import OutboxMessage
from core.staff.models import AuditEvent
from tests.factories import (
    OWN_ANSWERS,
    TRAINING,
    api_body,
    days_from_today,
    form_data,
    hold,
    post_form,
    staff_post,
    training_day,
)
from tests.test_bad_input import FormPage

EN = {"Accept-Language": "en"}
FR = {"Accept-Language": "fr"}
INDOOR, OUTDOOR = "expo-interieure", "expo-exterieure"
D = dt.timedelta

# Every question only some offerings ask, and the one no offering asks any more.
OWN_QUESTIONS = (
    "end",
    "start_time",
    "audience",
    "participants",
    "wall_metres",
    "secure_storage",
    "site_ground",
    "site_permits",
    "site_power",
    "site_guard",
    "venue_setting",
)
ASKED = {
    INDOOR: {"end", "audience", "wall_metres", "secure_storage"},
    OUTDOOR: {"end", "audience", "site_ground", "site_permits", "site_power", "site_guard"},
    TRAINING: {"start_time", "participants"},
}
MISSING = {
    INDOOR: {
        "audience": "This field is required.",
        "wall_metres": "Tell us how many metres of wall the portraits can hang on.",
        "secure_storage": "Tell us whether the crates can be stored securely.",
    },
    OUTDOOR: {
        "audience": "This field is required.",
        "site_ground": "Tell us what the panels will stand on.",
        "site_permits": "Tell us where the permits for the site stand.",
        "site_power": "Tell us whether there is electrical power on the site.",
        "site_guard": "Tell us who watches over the panels at night.",
    },
    TRAINING: {
        "start_time": "Tell us at what time the training starts.",
        "participants": "Tell us how many people will take part.",
    },
}
START_TIME = "Enter a start time from 7:00 a.m. to 8:00 p.m. (for example, 9:30 a.m.)."
PHONE = "Enter a phone number, like 514-383-2266, ext. 225."


def dates_for(offering: str) -> dict[str, dt.date]:
    if offering == TRAINING:
        return {"start": training_day(60)}
    return {"start": days_from_today(60), "end": days_from_today(60 + 8)}


def without_own_answers(offering: str) -> dict[str, None]:
    return {name: None for name in (*OWN_ANSWERS[offering], "audience")}


def bookings(session) -> list[Booking]:
    session.rollback()  # what the app committed since
    return list(session.scalars(select(Booking).order_by(Booking.id)))


def next_christmas(today: dt.date) -> dt.date:
    """A Christmas Day past the training's lead time."""
    christmas = dt.date(today.year, 12, 25)
    return christmas if christmas >= today + D(30) else christmas.replace(year=today.year + 1)


# --- each offering asks exactly its questions ------------------------------------------------


@pytest.mark.parametrize("offering", [INDOOR, OUTDOOR, TRAINING])
def test_union_is_asked_only_what_its_offering_needs(client, offering):
    page = client.get(f"/book/{offering}", headers=EN).get_data(as_text=True)
    shown = {name for name in OWN_QUESTIONS if f'name="{name}"' in page}
    assert shown == ASKED[offering]
    assert "The venue is" not in page  # the set booked says it


@pytest.mark.parametrize("offering", [INDOOR, OUTDOOR, TRAINING])
def test_what_an_offering_requires_is_marked_required_on_the_form(client, offering):
    page = client.get(f"/book/{offering}", headers=EN).get_data(as_text=True)
    for name in ASKED[offering] - {"end"}:
        inputs = re.findall(rf'<input[^>]*name="{name}"[^>]*>', page)
        assert inputs and all(" required" in tag for tag in inputs), name


def test_the_training_asks_one_date_and_a_time_of_day(client):
    page = client.get(f"/book/{TRAINING}", headers=EN).get_data(as_text=True)
    assert '<label for="start">Date</label>' in page
    assert 'id="end"' not in page
    time = re.search(r'<input[^>]*id="start_time"[^>]*>', page)[0]
    assert 'type="time"' in time and 'min="07:00"' in time and 'max="20:00"' in time


@pytest.mark.parametrize("offering", [INDOOR, OUTDOOR, TRAINING])
def test_the_api_lists_what_each_offering_asks(client, offering):
    listed = {o["slug"]: o for o in client.get("/api/v1/offerings").get_json()["offerings"]}
    asks = {item["field"]: item["required"] for item in listed[offering]["asks"]}
    assert {name for name in asks if name in OWN_QUESTIONS} == ASKED[offering]
    assert all(asks[name] for name in ASKED[offering])
    assert asks["notes"] is False
    assert listed[offering]["closed_on_holidays"] is (offering == TRAINING)


def test_openapi_says_which_offerings_ask_a_field(client):
    document = client.get("/api/v1/openapi.json").get_json()
    fields = document["components"]["schemas"]["BookingRequest"]["properties"]
    assert fields["site_guard"]["description"].startswith("Asked of outdoor exhibitions")
    assert fields["start_time"]["description"].startswith("Asked of trainings")
    assert fields["audience"]["description"].startswith("Asked of exhibitions")
    assert "venue_setting" not in fields


@pytest.mark.parametrize("offering", [INDOOR, OUTDOOR, TRAINING])
def test_a_missing_answer_is_refused_on_its_field_and_nothing_is_held(client, session, offering):
    data = form_data(offering, **dates_for(offering))
    for name in (*OWN_ANSWERS[offering], "audience"):
        data.pop(name, None)
    response = post_form(client, f"/book/{offering}", data, headers=EN)

    assert response.status_code == 422
    page = FormPage(response.get_data(as_text=True))
    assert page.errors == MISSING[offering]
    assert page.values["organization"] == "Syndicat des cols bleus"  # what was typed stays
    assert bookings(session) == []


@pytest.mark.parametrize("offering", [INDOOR, OUTDOOR, TRAINING])
def test_a_script_leaving_out_a_required_answer_is_told_per_field(client, session, offering):
    body = api_body(offering, **dates_for(offering), **without_own_answers(offering))
    response = client.post("/api/v1/bookings", json=body, headers=EN)

    assert response.status_code == 422
    assert response.get_json()["errors"] == MISSING[offering]
    assert bookings(session) == []


BAD_ANSWERS = [
    pytest.param(OUTDOOR, {"site_ground": "mud"}, "Choose one of: grass, paved, gravel, other."),
    pytest.param(
        OUTDOOR,
        {"site_permits": "maybe"},
        "Choose one of: obtained, requested, not-needed, unknown.",
    ),
    pytest.param(
        OUTDOOR,
        {"site_power": "sometimes"},
        "Tell us whether there is electrical power on the site.",
    ),
    pytest.param(OUTDOOR, {"site_guard": "x" * 201}, "At most 200 characters."),
    pytest.param(TRAINING, {"participants": "0"}, "Enter a number from 1 to 200."),
    pytest.param(TRAINING, {"participants": "201"}, "Enter a number from 1 to 200."),
    pytest.param(INDOOR, {"wall_metres": "0"}, "Enter a number from 1 to 1000."),
    pytest.param(
        INDOOR, {"secure_storage": "perhaps"}, "Tell us whether the crates can be stored securely."
    ),
]


@pytest.mark.parametrize(("offering", "answer", "message"), BAD_ANSWERS)
def test_a_wrong_answer_is_refused_on_its_field(client, session, offering, answer, message):
    data = {**form_data(offering, **dates_for(offering)), **answer}
    response = post_form(client, f"/book/{offering}", data, headers=EN)

    assert response.status_code == 422
    [(field, said)] = FormPage(response.get_data(as_text=True)).errors.items()
    assert (field, said) == (next(iter(answer)), message)
    assert bookings(session) == []


@pytest.mark.parametrize(
    "typed", ["06:59", "20:01", "23:30", "00:00", "25:00", "9", "9:5", "neuf heures", "9:30 pm"]
)
def test_a_start_time_outside_the_day_or_not_a_time_is_refused(client, session, typed):
    body = api_body(TRAINING, **dates_for(TRAINING), start_time=typed)
    response = client.post("/api/v1/bookings", json=body, headers=EN)
    assert response.status_code == 422
    assert response.get_json()["errors"] == {"start_time": START_TIME}

    form = {**form_data(TRAINING, **dates_for(TRAINING)), "start_time": typed}
    refused = post_form(client, f"/book/{TRAINING}", form, headers=FR)
    assert refused.status_code == 422
    said = FormPage(refused.get_data(as_text=True)).errors["start_time"]
    assert "7 h" in said and "20 h" in said  # as Québec writes the time
    assert bookings(session) == []


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        ("07:00", dt.time(7)),
        ("09:30", dt.time(9, 30)),
        ("9:30", dt.time(9, 30)),
        ("09:30:00", dt.time(9, 30)),
        ("9 h 30", dt.time(9, 30)),
        ("13h", dt.time(13)),
        ("20:00", dt.time(20)),
    ],
)
def test_a_start_time_is_read_as_people_write_it(client, session, typed, kept):
    body = api_body(TRAINING, **dates_for(TRAINING), start_time=typed)
    assert client.post("/api/v1/bookings", json=body).status_code == 201
    assert bookings(session)[0].start_time == kept


def test_the_training_is_held_on_its_one_date(client, session):
    start = training_day(62)
    data = form_data(TRAINING, start=start)
    data.pop("end")  # the page has no such field
    assert post_form(client, f"/book/{TRAINING}", data).status_code == 303
    # A script that sends a last day is not asked for one: the training lasts a day.
    body = api_body(TRAINING, start=start, end=start + D(3))
    answer = client.post("/api/v1/bookings", json=body).get_json()
    assert (answer["start"], answer["end"]) == (start.isoformat(), start.isoformat())

    kept = bookings(session)
    assert [(b.start_date, b.end_date) for b in kept] == [(start, start)] * 2
    assert [(b.start_time, b.audience) for b in kept] == [(dt.time(9, 30), 25)] * 2


def test_the_live_check_of_the_training_reads_its_one_date(client):
    start = training_day(64)
    answer = client.get(f"/book/{TRAINING}/check?start={start}", headers=EN)
    assert "These dates are free." in answer.get_data(as_text=True)


def test_answers_an_offering_does_not_ask_are_neither_checked_nor_kept(client, session):
    nonsense = dict(wall_metres="abc", secure_storage="maybe", site_ground="mud", audience="x")
    start = training_day(66)
    form = {**form_data(TRAINING, start=start), **nonsense}
    assert post_form(client, f"/book/{TRAINING}", form).status_code == 303
    body = {**api_body(OUTDOOR, start=days_from_today(70), end=days_from_today(77))}
    body.update(wall_metres="abc", secure_storage="maybe", participants=-1, start_time="late")
    assert client.post("/api/v1/bookings", json=body).status_code == 201

    training, outdoor = bookings(session)
    assert (training.wall_metres, training.secure_storage, training.site_ground) == (None,) * 3
    assert training.audience == 25  # its participants, not the audience sent
    assert (outdoor.wall_metres, outdoor.secure_storage, outdoor.start_time) == (None,) * 3
    assert (outdoor.site_ground, outdoor.site_permits, outdoor.site_power) == (
        "paved",
        "obtained",
        True,
    )
    assert outdoor.venue_setting == "outdoor"  # the set's, not a question


# --- statutory holidays ----------------------------------------------------------------------


def test_the_training_is_not_given_on_christmas_day_in_either_language(client, session, today):
    christmas = next_christmas(today)
    data = form_data(TRAINING, start=christmas)
    refused = post_form(client, f"/book/{TRAINING}", data, headers=EN)
    assert refused.status_code == 422
    assert FormPage(refused.get_data(as_text=True)).errors["start"] == (
        "Christmas Day (December 25) is a statutory holiday: the training is not given that day."
    )
    api = client.post("/api/v1/bookings", json=api_body(TRAINING, start=christmas), headers=FR)
    assert api.status_code == 422
    assert "Le 25 décembre est un jour férié (Jour de Noël)" in api.get_json()["errors"]["start"]
    assert bookings(session) == []


def test_the_live_check_names_the_holiday(client, today):
    new_year = dt.date(today.year + 2, 1, 1)
    answer = client.get(f"/book/{TRAINING}/check?start={new_year}", headers=FR)
    assert "Le 1er janvier est un jour férié (Jour de l'an)" in unescape(
        answer.get_data(as_text=True)
    )
    english = client.get(f"/book/{TRAINING}/check?start={new_year}", headers=EN)
    assert "New Year's Day (January 1) is a statutory holiday" in unescape(
        english.get_data(as_text=True)
    )


def test_an_exhibition_stays_up_over_the_holidays(client, session, today):
    christmas = next_christmas(today)
    body = api_body(INDOOR, start=christmas - D(3), end=christmas + D(10))
    assert client.post("/api/v1/bookings", json=body).status_code == 201


def test_an_offering_closed_on_holidays_refuses_any_day_of_a_booking_on_one(session, today):
    christmas = next_christmas(today)
    session.execute(
        Offering.__table__.update().where(Offering.slug == INDOOR).values(closed_on_holidays=True)
    )
    session.commit()
    with pytest.raises(InvalidBooking) as refused:
        hold(session, start=christmas - D(3), end=christmas + D(3))
    assert "statutory holiday" in str(refused.value.errors["start"])
    assert bookings(session) == []


def test_closed_days_name_the_holidays_of_a_stretch(app, session, today):
    training = offering_by_slug(session, TRAINING)
    year = today.year + 1
    with app.test_request_context(headers=EN):
        closed = closed_days(training, dt.date(year, 6, 20), dt.date(year, 7, 5))
        assert set(closed) >= {dt.date(year, 6, 24), dt.date(year, 7, 1)}
        assert closed[dt.date(year, 7, 1)] == "Canada Day"
        indoor = offering_by_slug(session, INDOOR)
        assert closed_days(indoor, dt.date(year, 1, 1), dt.date(year, 12, 31)) == {}
    with app.test_request_context(headers=FR):
        assert closed_days(training, dt.date(year, 7, 1), dt.date(year, 7, 1)) == {
            dt.date(year, 7, 1): "Fête du Canada"
        }


def test_admin_opens_the_training_on_holidays_and_the_log_says_so(
    admin_client, client, session, today
):
    url = f"/staff/offerings/{TRAINING}"
    page = admin_client.get(url, headers=EN).get_data(as_text=True)
    box = re.search(r'<input[^>]*name="closed_on_holidays"[^>]*>', page)[0]
    assert "checked" in box
    form = {name: value for name, value in FormPage(page).values.items() if name != "csrf_token"}
    form.pop("closed_on_holidays")  # the admin unticks the box
    assert staff_post(admin_client, url, form).status_code == 303

    session.rollback()
    event = session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert (event.subject_key, json.loads(event.before), json.loads(event.after)) == (
        TRAINING,
        {"closed_on_holidays": True},
        {"closed_on_holidays": False},
    )
    christmas = next_christmas(today)
    body = api_body(TRAINING, start=christmas)
    assert client.post("/api/v1/bookings", json=body).status_code == 201
    listed = admin_client.get("/staff/offerings", headers=EN).get_data(as_text=True)
    assert "Statutory holidays" in listed


# --- phones ----------------------------------------------------------------------------------

GOOD_PHONES = [
    ("514 555-0199 poste 224", "+15145550199;ext=224", "514 555-0199, poste 224"),
    ("514-383-2266 ext. 225", "+15143832266;ext=225", "514 383-2266, poste 225"),
    ("+1 (514) 383-2266 x225", "+15143832266;ext=225", "514 383-2266, poste 225"),
    ("(514) 383-2266, poste 225", "+15143832266;ext=225", "514 383-2266, poste 225"),
    ("514 383-2266 p. 12", "+15143832266;ext=12", "514 383-2266, poste 12"),
    ("1-800-363-0000", "+18003630000", "1 800 363-0000"),
    ("514.383.2266", "+15143832266", "514 383-2266"),
    ("5143832266", "+15143832266", "514 383-2266"),
    ("+33 1 42 68 53 00", "+33142685300", "+33 1 42 68 53 00"),
]
BAD_PHONES = ["call me", "12345", "383-2266", "999-999-9999", "514-383-22666", "514 383 2266 Ana"]


@pytest.mark.parametrize(("typed", "stored", "french"), GOOD_PHONES)
def test_a_phone_is_read_as_people_write_it(typed, stored, french):
    assert read_phone(typed) == stored
    assert show_phone(stored, "fr") == french


@pytest.mark.parametrize(
    ("stored", "english"),
    [
        ("+15143832266;ext=225", "514-383-2266, ext. 225"),
        ("+18003630000", "1-800-363-0000"),
        ("514 383 2266 (bureau)", "514 383 2266 (bureau)"),  # kept as typed before 0007
    ],
)
def test_a_phone_is_shown_as_the_readers_language_writes_it(stored, english):
    assert show_phone(stored, "en") == english


@pytest.mark.parametrize("typed", BAD_PHONES)
def test_a_number_that_cannot_be_called_is_refused_in_the_users_language(
    app, client, session, typed
):
    api = client.post("/api/v1/bookings", json=api_body(phone=typed), headers=EN)
    assert api.status_code == 422 and api.get_json()["errors"] == {"phone": PHONE}
    form = post_form(client, f"/book/{INDOOR}", form_data(phone=typed), headers=FR)
    assert form.status_code == 422
    with app.test_request_context(headers=FR):
        in_french = _(PHONE)
    assert FormPage(form.get_data(as_text=True)).errors["phone"] == in_french
    assert bookings(session) == []


def test_staff_read_the_union_phone_and_answers_in_the_desk_and_the_mail(
    app, client, staff_client, session
):
    body = api_body(OUTDOOR, start=days_from_today(80), end=days_from_today(88))
    body["phone"] = "514 555-0199 poste 224"
    reference = client.post("/api/v1/bookings", json=body).get_json()["reference"]
    assert bookings(session)[0].phone == "+15145550199;ext=224"

    page = staff_client.get(f"/staff/bookings/{reference}", headers=EN).get_data(as_text=True)
    assert '<a href="tel:+15145550199,224">514-555-0199, ext. 224</a>' in page
    assert "<dt>What will the panels stand on?</dt><dd>Pavement or asphalt</dd>" in page
    assert "<dt>Who watches over the panels at night?</dt>" in page
    staff_mail = session.scalars(
        select(OutboxMessage.raw).where(OutboxMessage.recipient != body["email"])
    ).first()
    text_part = next(
        part.get_payload(decode=True).decode()
        for part in message_from_string(staff_mail).walk()
        if part.get_content_type() == "text/plain"
    )
    assert "514 555-0199, poste 224" in text_part  # staff read French
    assert "Le service de sécurité de la ville" in text_part  # who guards the panels


def test_the_training_start_time_shows_on_the_desk(client, staff_client, session):
    answer = client.post("/api/v1/bookings", json=api_body(TRAINING, start=training_day(68)))
    page = staff_client.get(f"/staff/bookings/{answer.get_json()['reference']}", headers=EN)
    text_ = page.get_data(as_text=True)
    assert "<dt>Start time</dt><dd>9:30 a.m.</dd>" in text_
    assert "<dt>Number of participants</dt><dd>25</dd>" in text_
    assert "Held for transit and set-up" not in text_  # a training has no transit days


# --- migration 0007 on a database in use -----------------------------------------------------


@pytest.fixture(params=["sqlite", "postgresql"])
def database_at_0006(request, fresh_app) -> Flask:  # type: ignore[no-untyped-def]
    """A database in use before 0007: an exhibition booking and a training booking whose
    phones were kept as typed."""
    config: dict[str, Any] = {}
    if request.param == "postgresql":
        config["DATABASE_URL"] = request.getfixturevalue("postgres_url")
    app = fresh_app(**config)
    with session_for(app) as session:
        hold(session, start=days_from_today(45))
        hold(session, offering=TRAINING, start=training_day(47))
    engine = engine_of(app)
    command.downgrade(alembic_config(engine), "0006")
    with engine.begin() as connection:
        connection.execute(text("UPDATE bookings SET phone = '514 383 2266 (bureau)'"))
    return app


def _rows(engine) -> list[tuple[Any, ...]]:  # type: ignore[no-untyped-def]
    with engine.connect() as connection:
        return [
            tuple(row)
            for row in connection.execute(
                text(
                    "SELECT id, reference, offering_id, start_date, end_date, phone, audience, "
                    "wall_metres, venue_setting, secure_storage FROM bookings ORDER BY id"
                )
            )
        ]


def test_migration_0007_keeps_every_booking_and_closes_the_training_on_holidays(
    database_at_0006,
):
    engine = engine_of(database_at_0006)
    before = _rows(engine)
    assert len(before) == 2

    command.upgrade(alembic_config(engine), "head")
    assert _rows(engine) == before
    with engine.connect() as connection:
        closed = dict(
            connection.execute(text("SELECT slug, closed_on_holidays FROM offerings")).all()
        )
        new = connection.execute(
            text(
                "SELECT site_ground, site_permits, site_power, site_guard, start_time FROM bookings"
            )
        ).all()
    assert {slug: bool(value) for slug, value in closed.items()} == {
        INDOOR: False,
        OUTDOOR: False,
        TRAINING: True,
    }
    assert [tuple(row) for row in new] == [(None,) * 5] * 2
    with (
        database_at_0006.test_request_context(headers=EN),
        session_for(database_at_0006) as session,
    ):
        assert {show_phone(b.phone) for b in session.scalars(select(Booking))} == {
            "514 383 2266 (bureau)"  # as typed
        }
        assert session.scalar(select(func.count()).select_from(Booking)) == 2

    command.downgrade(alembic_config(engine), "0006")
    assert _rows(engine) == before
    command.upgrade(alembic_config(engine), "head")
    assert _rows(engine) == before


def private_page(client, token: str) -> str:  # type: ignore[no-untyped-def]
    return unescape(client.get(f"/bookings/{token}", headers=EN).get_data(as_text=True))


def test_union_reads_its_own_answers_back_on_its_private_page(client, session):
    start = days_from_today(200)
    outdoor = hold(session, offering="expo-exterieure", start=start, end=start + D(7))
    page = private_page(client, outdoor.manage_token)
    assert "Pavement or asphalt" in page
    assert "Le service de sécurité de la ville" in page
    assert "Running metres of wall" not in page
    training = hold(session, offering=TRAINING, start=training_day(200))
    page = private_page(client, training.manage_token)
    assert "Number of participants" in page
    assert "9:30" in page
