"""The OpenAPI 3 description of /api/v1, served at /api/v1/openapi.json; the booking request's
schema is derived from booking.schema, the waitlist's from booking.waitlist."""

from __future__ import annotations

from typing import Any

from booking import schema, waitlist

REF_TEMPLATE = "#/components/schemas/{model}"

DATE = {"type": "string", "format": "date", "example": "2027-05-03"}
ERROR = {"type": "object", "required": ["error"], "properties": {"error": {"type": "string"}}}
FIELD_ERRORS = {
    "type": "object",
    "required": ["errors"],
    "properties": {
        "errors": {
            "type": "object",
            "description": "One message per invalid field, in the caller's language "
            "(Accept-Language: fr or en).",
            "additionalProperties": {"type": "string"},
        }
    },
}


def _json_body_refusals() -> dict[str, Any]:
    """What every POST of a JSON body may answer instead: an unreadable, oversized or
    invalid body, or too many requests."""
    return {
        "400": _json(_ref("Error"), "The body is not valid JSON"),
        "413": _json(_ref("Error"), "The body is too large"),
        "415": _json(_ref("Error"), "The body is not application/json"),
        "422": _json(_ref("FieldErrors"), "Invalid fields"),
        "429": _json(_ref("Error"), "Too many requests; see Retry-After"),
    }


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def openapi_document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Ambulante",
            "version": "1",
            "description": "Book the travelling photo exhibition and the textile-comic "
            "training. Dates are local to Montréal (America/Montreal).",
        },
        "paths": {
            "/api/v1/offerings": {
                "get": {
                    "summary": "Offerings with their units and buffer days",
                    "operationId": "listOfferings",
                    "responses": {"200": _json(_ref("OfferingList"), "The active offerings")},
                }
            },
            "/api/v1/availability": {
                "get": {
                    "summary": "One entry per day: free, held or booked",
                    "operationId": "availability",
                    "parameters": [
                        {
                            "name": "offering",
                            "in": "query",
                            "required": True,
                            "schema": {"type": "string"},
                        },
                        {"name": "start", "in": "query", "required": True, "schema": DATE},
                        {
                            "name": "end",
                            "in": "query",
                            "required": True,
                            "schema": DATE,
                            "description": "Inclusive; at most 366 days after start.",
                        },
                    ],
                    "responses": {
                        "200": _json(_ref("Availability"), "The days, in order"),
                        "422": _json(_ref("FieldErrors"), "Invalid parameters"),
                    },
                }
            },
            "/api/v1/bookings": {
                "post": {
                    "summary": "Request dates; they are held until staff decide",
                    "operationId": "requestBooking",
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": _ref("BookingRequest")}},
                    },
                    "responses": {
                        "201": _json(_ref("BookingCreated"), "The dates are held"),
                        "409": _json(_ref("DatesTaken"), "The dates are taken"),
                        "503": _json(_ref("Error"), "Many requests at once; send again"),
                        **_json_body_refusals(),
                    },
                }
            },
            "/api/v1/waitlist": {
                "post": {
                    "summary": "Be told once, by email, if taken dates free up",
                    "description": "When a hold on overlapping dates of the offering is "
                    "declined or cancelled and the dates are free, one email is sent with a "
                    "link to the request form filled in. Joining again with the same email "
                    "and dates keeps one entry.",
                    "operationId": "joinWaitlist",
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": _ref("WaitlistRequest")}},
                    },
                    "responses": {
                        "201": _json(_ref("WaitlistJoined"), "On the waitlist"),
                        **_json_body_refusals(),
                    },
                }
            },
            "/api/v1/openapi.json": {
                "get": {
                    "summary": "This document",
                    "operationId": "openapi",
                    "responses": {
                        "200": {
                            "description": "The OpenAPI document",
                            "content": {"application/json": {}},
                        }
                    },
                }
            },
        },
        "components": {"schemas": _schemas()},
    }


def _schemas() -> dict[str, Any]:
    text = {"type": "string"}
    localized = {
        "type": "object",
        "required": ["fr", "en"],
        "properties": {"fr": text, "en": text},
    }
    window = {
        "type": "object",
        "required": ["start", "end"],
        "properties": {"start": DATE, "end": DATE},
    }
    return {
        **_request_schemas(),
        "Error": ERROR,
        "FieldErrors": FIELD_ERRORS,
        "Offering": {
            "type": "object",
            "required": [
                "slug",
                "kind",
                "title",
                "description",
                "min_days",
                "max_days",
                "lead_days",
                "buffer_before_days",
                "buffer_after_days",
                "closed_on_holidays",
                "asks",
                "units",
            ],
            "properties": {
                "slug": text,
                "kind": {"type": "string", "enum": ["exhibition", "training"]},
                "title": localized,
                "description": localized,
                "venue_setting": {"type": ["string", "null"], "enum": ["indoor", "outdoor", None]},
                "min_days": {"type": "integer"},
                "max_days": {"type": "integer"},
                "lead_days": {"type": "integer"},
                "buffer_before_days": {"type": "integer"},
                "buffer_after_days": {"type": "integer"},
                "closed_on_holidays": {
                    "type": "boolean",
                    "description": "Québec's statutory holidays cannot be booked",
                },
                "asks": {
                    "type": "array",
                    "description": "The request fields this offering reads (see BookingRequest)",
                    "items": {
                        "type": "object",
                        "required": ["field", "required"],
                        "properties": {"field": text, "required": {"type": "boolean"}},
                    },
                },
                "units": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["id", "name"],
                        "properties": {"id": {"type": "integer"}, "name": text},
                    },
                },
            },
        },
        "OfferingList": {
            "type": "object",
            "required": ["offerings"],
            "properties": {"offerings": {"type": "array", "items": _ref("Offering")}},
        },
        "Availability": {
            "type": "object",
            "required": ["offering", "days"],
            "properties": {
                "offering": text,
                "days": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["date", "status", "bookable"],
                        "properties": {
                            "date": DATE,
                            "status": {"type": "string", "enum": ["free", "held", "booked"]},
                            "bookable": {
                                "type": "boolean",
                                "description": "A booking of the shortest length can include it",
                            },
                        },
                    },
                },
            },
        },
        "BookingCreated": {
            "type": "object",
            "required": ["reference", "status", "offering", "start", "end", "manage_url"],
            "properties": {
                "reference": {"type": "string", "example": "AMB-2027-0042"},
                "status": {"type": "string", "enum": ["requested"]},
                "offering": text,
                "start": DATE,
                "end": DATE,
                "manage_url": {"type": "string", "format": "uri"},
            },
        },
        "DatesTaken": {
            "type": "object",
            "required": ["error", "next_available", "waitlist"],
            "properties": {
                "error": text,
                "next_available": {"type": "array", "items": window},
                "waitlist": {
                    "type": "object",
                    "description": "To be told if the dates free up: POST these values, "
                    "with an email and a language, to the url (see joinWaitlist).",
                    "required": ["url", "offering", "start", "end"],
                    "properties": {
                        "url": {"type": "string", "format": "uri"},
                        "offering": text,
                        "start": DATE,
                        "end": DATE,
                    },
                },
            },
        },
        "WaitlistJoined": {
            "type": "object",
            "required": ["status", "offering", "start", "end", "email", "language"],
            "properties": {
                "status": {"type": "string", "enum": ["waiting"]},
                "offering": text,
                "start": DATE,
                "end": DATE,
                "email": {"type": "string", "format": "email"},
                "language": {"type": "string", "enum": ["fr", "en"]},
            },
        },
    }


def _request_schemas() -> dict[str, Any]:
    """The request's JSON Schema as pydantic writes it, with what the form's inputs add."""
    request_schema = schema.BookingRequest
    document = request_schema.model_json_schema(ref_template=REF_TEMPLATE)
    document["description"] = (
        "A request for dates. Each offering asks its own questions (its `asks` in "
        "/api/v1/offerings): a field some offerings ask is required of them and ignored for "
        "the others. Dates must follow the offering's lead time and lengths, and avoid "
        "statutory holidays when the offering is closed on them."
    )
    definitions = document.pop("$defs", {})
    for name, field in request_schema.model_fields.items():
        spec = schema.input_of(field)
        described = document["properties"][name]
        if spec.asked_of is not None:
            described["description"] = _asked_of(spec.asked_of)
        if spec.widget == "email":
            described["format"] = "email"
        if spec.widget == "time":
            # Local time as people write it, not RFC 3339's time with its zone.
            for variant in described.get("anyOf", [described]):
                if variant.pop("format", None) == "time":
                    variant["example"] = "09:30"
            described["description"] += (
                f" Local time, HH:MM, from {schema.EARLIEST_START_TIME:%H:%M} "
                f"to {schema.LATEST_START_TIME:%H:%M}."
            )
        if spec.widget == "tel":
            described["description"] = (
                "As people write it, extension included (514-383-2266 ext. 225, "
                "poste 225, x225); numbers without a country code are Canadian."
            )
            described["example"] = "514-383-2266 poste 225"
    return {"BookingRequest": document, **definitions, "WaitlistRequest": _waitlist_schema()}


TRAIT_NAMES = {
    schema.Trait.INDOOR_EXHIBITION: "indoor exhibitions",
    schema.Trait.OUTDOOR_EXHIBITION: "outdoor exhibitions",
    schema.Trait.TRAINING: "trainings",
    schema.Trait.CHOSEN_LENGTH: "offerings whose length varies (min_days < max_days)",
    schema.Trait.ONE_DAY: "one-day offerings",
}


def _asked_of(traits: frozenset[schema.Trait]) -> str:
    names = " and ".join(TRAIT_NAMES[trait] for trait in schema.Trait if trait in traits)
    if traits == schema.EXHIBITIONS:
        names = "exhibitions"
    described = f"Asked of {names}, and required there; ignored for other offerings."
    if schema.Trait.CHOSEN_LENGTH in traits:
        described += " Otherwise the last day follows from start and the fixed length."
    return described


def _waitlist_schema() -> dict[str, Any]:
    document = waitlist.WaitlistRequest.model_json_schema(ref_template=REF_TEMPLATE)
    document["properties"]["email"]["format"] = "email"
    return document
