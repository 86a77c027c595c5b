"""The booking request is described once: a field added to the schema is asked on the form,
checked by the API and documented in openapi.json, with nothing else edited."""

from __future__ import annotations

import re
from typing import Annotated

import pytest
from pydantic import Field, create_model

from booking import schema
from tests.factories import api_body, form_data, post_form

EN = {"Accept-Language": "en"}
ONE_TO_FIFTY = "Enter from 0 to 50 parking spots."


@pytest.fixture
def parking_question(monkeypatch: pytest.MonkeyPatch) -> None:
    """The schema as a developer would extend it: one more field, its rule and its input."""
    extended = create_model(
        "BookingRequestWithParking",
        __base__=schema.BookingRequest,
        parking_spots=(
            Annotated[
                int,
                Field(ge=0, le=50),
                schema.Input("Parking spots", "where", widget="number", invalid=ONE_TO_FIFTY),
            ],
            ...,
        ),
    )
    monkeypatch.setattr(schema, "BookingRequest", extended)


def test_the_new_field_is_asked_on_the_form_and_checked_there(parking_question, client):
    page = client.get("/book/expo-interieure", headers=EN).get_data(as_text=True)
    assert '<label for="parking_spots">Parking spots</label>' in page
    assert re.search(r'<input[^>]*id="parking_spots"[^>]*type="number"', page)

    refused = post_form(client, "/book/expo-interieure", form_data(parking_spots="99"), headers=EN)
    assert refused.status_code == 422
    assert ONE_TO_FIFTY in refused.get_data(as_text=True)
    accepted = post_form(client, "/book/expo-interieure", form_data(parking_spots="4"))
    assert accepted.status_code == 303


@pytest.mark.parametrize(
    ("value", "message"),
    [(None, "This field is required."), (99, ONE_TO_FIFTY), ("4", "Must be a whole number.")],
)
def test_the_api_checks_the_new_field(parking_question, client, value, message):
    body = api_body(**({} if value is None else {"parking_spots": value}))
    response = client.post("/api/v1/bookings", json=body, headers=EN)
    assert response.status_code == 422
    assert response.get_json()["errors"] == {"parking_spots": message}


def test_the_api_takes_a_request_with_the_new_field(parking_question, client):
    response = client.post("/api/v1/bookings", json=api_body(parking_spots=4))
    assert response.status_code == 201


def test_openapi_documents_the_new_field(parking_question, client):
    document = client.get("/api/v1/openapi.json").get_json()
    request = document["components"]["schemas"]["BookingRequest"]
    assert request["properties"]["parking_spots"] == {
        "type": "integer",
        "minimum": 0,
        "maximum": 50,
        "title": "Parking Spots",
    }
    assert "parking_spots" in request["required"]
