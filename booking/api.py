"""The JSON API under /api/v1: offerings, availability per day, booking requests, and the
waitlist for dates that are taken."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, jsonify, request
from flask_babel import gettext as _
from pydantic import ValidationError
from werkzeug.exceptions import BadRequest
from werkzeug.wrappers import Response

from booking import catalog, schema, waitlist
from booking.availability import day_states, readable_range
from booking.catalog import CatalogOffering
from booking.errors import DatesTaken, InvalidBooking, UnknownOffering
from booking.openapi import openapi_document
from booking.page_cache import cached_page
from booking.routes import booking_rate_limit, mail_settings
from booking.service import END_BEFORE_START
from booking.submit import submit_request
from core.clock import now_utc, today_local
from core.database import get_session
from core.limits import limiter

blueprint = Blueprint("api", __name__, url_prefix="/api/v1")

MAX_AVAILABILITY_DAYS = 366
WAITLIST_PATH = "/waitlist"  # offered in every 409, on the configured public address

Reply = tuple[Response, int]


def _errors(errors: dict[str, Any]) -> Reply:
    return jsonify(errors={name: str(message) for name, message in errors.items()}), 422


def _offering_json(offering: CatalogOffering) -> dict[str, Any]:
    return {
        "slug": offering.slug,
        "kind": offering.kind,
        "title": {"fr": offering.title_fr, "en": offering.title_en},
        "description": {"fr": offering.description_fr, "en": offering.description_en},
        "venue_setting": offering.venue_setting,
        "min_days": offering.min_days,
        "max_days": offering.max_days,
        "lead_days": offering.lead_days,
        "buffer_before_days": offering.buffer_before_days,
        "buffer_after_days": offering.buffer_after_days,
        "closed_on_holidays": offering.closed_on_holidays,
        # What a request for it asks (booking.schema.Trait); other answers are ignored.
        "asks": [
            {"field": name, "required": schema.is_required(field, spec)}
            for name, (field, spec) in schema.asked(schema.BookingRequest, offering).items()
        ],
        "units": [{"id": unit.id, "name": unit.name} for unit in offering.units if unit.active],
    }


@blueprint.get("/openapi.json")
def openapi() -> Response:
    return jsonify(openapi_document())


@blueprint.get("/offerings")
def offerings() -> Response:
    session = get_session()
    return cached_page(
        session,
        lambda: jsonify(offerings=[_offering_json(o) for o in catalog.active_offerings(session)]),
    )


@blueprint.get("/availability")
def availability() -> Response:
    return cached_page(get_session(), _draw_availability)


def _draw_availability() -> Reply:
    errors: dict[str, Any] = {}
    session = get_session()
    offering = None
    try:
        offering = catalog.offering_by_slug(session, request.args.get("offering", ""))
    except UnknownOffering:
        errors["offering"] = _("Unknown offering.")
    start = _parse_date(request.args.get("start"), "start", errors)
    end = _parse_date(request.args.get("end"), "end", errors)
    if start and end:
        if end < start:
            errors["end"] = END_BEFORE_START
        elif (end - start).days >= MAX_AVAILABILITY_DAYS:
            errors["end"] = _(
                "Ask for at most %(days)s days at a time.", days=MAX_AVAILABILITY_DAYS
            )
    if errors or offering is None or start is None or end is None:
        return _errors(errors)
    days = day_states(session, offering, start, end, today_local())
    return jsonify(
        offering=offering.slug,
        days=[
            {"date": day.date.isoformat(), "status": day.status, "bookable": day.bookable}
            for day in days
        ],
    ), 200


def _parse_date(value: str | None, field: str, errors: dict[str, Any]) -> dt.date | None:
    if not value:
        errors[field] = str(schema.REQUIRED)
        return None
    parsed = schema.read_date(value)
    if parsed is None:
        errors[field] = str(schema.NOT_A_DATE)
        return None
    reach = readable_range(today_local())
    if not reach.start <= parsed <= reach.end:
        errors[field] = _(
            "Ask about dates from %(first)s to %(last)s.",
            first=reach.start.isoformat(),
            last=reach.end.isoformat(),
        )
        return None
    return parsed


def _offering_or_none(slug: object) -> CatalogOffering | None:
    """Unknown offerings are told so later, by the rules; until then, every answer is read."""
    try:
        return catalog.offering_by_slug(get_session(), str(slug))
    except UnknownOffering:
        return None


def _json_object() -> dict[str, Any] | Reply:
    """The body as a JSON object, or the answer that says what is wrong with it."""
    if not request.is_json:
        return jsonify(error=_("Send the request as JSON (Content-Type: application/json).")), 415
    try:
        body = request.get_json()
    except (BadRequest, RecursionError):  # RecursionError: absurdly deep nesting
        return jsonify(error=_("The body is not valid JSON.")), 400
    if not isinstance(body, dict):
        return _errors({"body": _("Send a JSON object.")})
    return body


@blueprint.post("/bookings")
@limiter.limit(booking_rate_limit)
def create_booking() -> Reply:
    body = _json_object()
    if not isinstance(body, dict):
        return body
    request_schema = schema.BookingRequest
    offering = _offering_or_none(body.get("offering"))
    # What the offering does not ask for is ignored, as on the form (see booking.schema).
    values = schema.answers_asked(
        request_schema, offering, {name: value for name, value in body.items() if value is not None}
    )
    type_errors = schema.json_type_errors(request_schema, values)
    if type_errors:
        missing = schema.missing_answers(request_schema, offering, values) if offering else {}
        return _errors(missing | type_errors)
    booking_request, errors = schema.read_request(request_schema, offering, values)
    if errors:
        return _errors(errors)
    try:
        submitted = submit_request(
            get_session(), mail_settings(), booking_request, today_local(), now_utc()
        )
    except UnknownOffering:
        return _errors({"offering": _("Unknown offering.")})
    except InvalidBooking as error:
        return _errors(error.errors)
    except DatesTaken as error:
        windows = [
            {"start": w.start.isoformat(), "end": w.end.isoformat()} for w in error.next_available
        ]
        offer = {
            # How to be told if they free up: send the same dates with an email there.
            "url": f"{mail_settings().public_url}{blueprint.url_prefix}{WAITLIST_PATH}",
            "offering": booking_request.offering,
            "start": booking_request.start.isoformat(),
            "end": booking_request.end.isoformat(),
        }
        return jsonify(
            error=_("Those dates are no longer free."), next_available=windows, waitlist=offer
        ), 409
    booking = submitted.booking
    return jsonify(
        reference=booking.reference,
        status=booking.status,
        offering=booking_request.offering,
        start=booking.start_date.isoformat(),
        end=booking.end_date.isoformat(),
        manage_url=submitted.manage_url,
    ), 201


@blueprint.post(WAITLIST_PATH)
@limiter.limit(booking_rate_limit)
def join_waitlist() -> Reply:
    """Be told once, by email, if taken dates free up."""
    body = _json_object()
    if not isinstance(body, dict):
        return body
    request_schema = waitlist.WaitlistRequest
    values = {name: value for name, value in body.items() if value is not None}
    type_errors = schema.json_type_errors(request_schema, values)
    if type_errors:
        return _errors(type_errors)
    try:
        wanted: Any = request_schema.model_validate(values)
    except ValidationError as error:
        return _errors(schema.messages(request_schema, error))
    session = get_session()
    try:
        entry = waitlist.join_waitlist(
            session,
            wanted.offering,
            wanted.start,
            wanted.end,
            wanted.email,
            wanted.language,
            today_local(),
            now_utc(),
        )
    except InvalidBooking as error:
        session.rollback()
        return _errors(error.errors)
    session.commit()
    return jsonify(
        status="waiting",
        offering=wanted.offering,
        start=entry.start_date.isoformat(),
        end=entry.end_date.isoformat(),
        email=entry.email,
        language=entry.language,
    ), 201
