"""Scripts and partner sites use the JSON API exactly as DESIGN.md and its OpenAPI document say."""

from __future__ import annotations

import datetime as dt

import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate

from tests.factories import api_body, days_from_today, hold, training_day

D = dt.timedelta


def booking_json(offering: str = "expo-interieure", days: int = 5, **overrides):
    start = days_from_today(60)
    return api_body(offering, start, start + D(days - 1), **overrides)


@pytest.fixture
def spec(client):
    return client.get("/api/v1/openapi.json").get_json()


def schema_of(spec, name):
    """A component schema with its references resolvable, for jsonschema."""
    return {"$ref": f"#/components/schemas/{name}", "components": spec["components"]}


def assert_matches(spec, name, payload):
    errors = list(Draft202012Validator(schema_of(spec, name)).iter_errors(payload))
    assert not errors, errors


def test_openapi_document_is_valid_and_lists_exactly_the_api_routes(app, spec):
    validate(spec)
    documented = {(path, method.upper()) for path, item in spec["paths"].items() for method in item}
    served = {
        (rule.rule, method)
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert documented == served


def test_offerings_list_units_and_buffer_days(client, spec):
    body = client.get("/api/v1/offerings").get_json()
    assert_matches(spec, "OfferingList", body)
    indoor = next(o for o in body["offerings"] if o["slug"] == "expo-interieure")
    assert indoor["buffer_before_days"] == 2
    assert [unit["name"] for unit in indoor["units"]] == ["Caisse A", "Caisse B"]


def test_availability_gives_one_entry_per_day_without_personal_data(client, session, spec):
    start = training_day(60)
    for _ in range(2):
        hold(session, offering="formation-bd-textile", start=start, end=start)
    response = client.get(
        f"/api/v1/availability?offering=formation-bd-textile&start={start}&end={start + D(2)}"
    )
    body = response.get_json()
    assert_matches(spec, "Availability", body)
    assert [day["status"] for day in body["days"]] == ["held", "free", "free"]
    assert "Syndicat" not in response.get_data(as_text=True)


def test_a_script_books_and_gets_its_private_link(client, spec):
    response = client.post("/api/v1/bookings", json=booking_json())
    assert response.status_code == 201
    body = response.get_json()
    assert_matches(spec, "BookingCreated", body)
    assert body["status"] == "requested"
    assert client.get(body["manage_url"].replace("http://localhost", "")).status_code == 200


def test_taken_dates_answer_409_with_next_windows(client, spec):
    body = booking_json("expo-exterieure", venue_setting="outdoor", days=10)
    assert client.post("/api/v1/bookings", json=body).status_code == 201
    refused = client.post("/api/v1/bookings", json=body)
    assert refused.status_code == 409
    assert_matches(spec, "DatesTaken", refused.get_json())
    window = refused.get_json()["next_available"][0]
    assert dt.date.fromisoformat(window["end"]) - dt.date.fromisoformat(window["start"]) == D(9)


def test_invalid_fields_answer_422_in_the_documented_shape(client, spec):
    response = client.post("/api/v1/bookings", json=booking_json(email="nope"))
    assert response.status_code == 422
    assert_matches(spec, "FieldErrors", response.get_json())
    assert "email" in response.get_json()["errors"]
