"""The JSON API under /api/v1: offerings, availability per day, and booking requests."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, jsonify, request
from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import BadRequest
from werkzeug.wrappers import Response

from booking import service
from booking.availability import day_states
from booking.errors import DatesTaken, InvalidBooking, UnknownOffering
from booking.forms import UNSTORABLE, BookingForm, is_storable
from booking.models import Offering
from booking.openapi import openapi_document
from booking.submit import submit_request
from core.database import get_session
from core.limits import booking_limit, limiter

blueprint = Blueprint("api", __name__, url_prefix="/api/v1")

MAX_AVAILABILITY_DAYS = 366
TEXT_FIELDS = (
    "start",
    "end",
    "organization",
    "contact_name",
    "email",
    "phone",
    "venue",
    "address",
    "city",
    "language",
    "notes",
    "venue_setting",
)
WHOLE_NUMBER_FIELDS = ("audience", "wall_metres")
YES_NO_FIELDS = ("secure_storage",)

Reply = tuple[Response, int]


def _errors(errors: dict[str, Any]) -> Reply:
    return jsonify(errors={name: str(message) for name, message in errors.items()}), 422


def _offering_json(offering: Offering) -> dict[str, Any]:
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
        "units": [{"id": unit.id, "name": unit.name} for unit in offering.units if unit.active],
    }


@blueprint.get("/openapi.json")
def openapi() -> Response:
    return jsonify(openapi_document())


@blueprint.get("/offerings")
def offerings() -> Response:
    return jsonify(offerings=[_offering_json(o) for o in service.active_offerings(get_session())])


@blueprint.get("/availability")
def availability() -> Reply:
    errors: dict[str, Any] = {}
    session = get_session()
    offering = None
    try:
        offering = service.offering_by_slug(session, request.args.get("offering", ""))
    except UnknownOffering:
        errors["offering"] = _("Unknown offering.")
    start = _parse_date(request.args.get("start"), "start", errors)
    end = _parse_date(request.args.get("end"), "end", errors)
    if start and end:
        if end < start:
            errors["end"] = _("The end date must be on or after the start date.")
        elif (end - start).days >= MAX_AVAILABILITY_DAYS:
            errors["end"] = _(
                "Ask for at most %(days)s days at a time.", days=MAX_AVAILABILITY_DAYS
            )
    if errors or offering is None or start is None or end is None:
        return _errors(errors)
    days = day_states(session, offering, start, end, service.today_in_montreal())
    return jsonify(
        offering=offering.slug,
        days=[
            {"date": day.date.isoformat(), "status": day.status, "bookable": day.bookable}
            for day in days
        ],
    ), 200


def _parse_date(value: str | None, field: str, errors: dict[str, Any]) -> dt.date | None:
    if not value:
        errors[field] = _("This field is required.")
        return None
    try:
        parsed = dt.date.fromisoformat(value)
    except ValueError:
        parsed = None
    if (
        parsed is None
        or len(value) != 10
        or not dt.date(2000, 1, 1) <= parsed <= dt.date(2200, 1, 1)
    ):
        errors[field] = _("Enter a date as YYYY-MM-DD.")
        return None
    return parsed


@blueprint.post("/bookings")
@limiter.limit(booking_limit)
def create_booking() -> Reply:
    if not request.is_json:
        return jsonify(error=_("Send the request as JSON (Content-Type: application/json).")), 415
    try:
        body = request.get_json()
    except (BadRequest, RecursionError):  # RecursionError: absurdly deep nesting
        return jsonify(error=_("The body is not valid JSON.")), 400
    if not isinstance(body, dict):
        return _errors({"body": _("Send a JSON object.")})
    type_errors = _type_errors(body)
    if type_errors:
        return _errors(type_errors)
    form = BookingForm(_as_form_data(body), meta={"csrf": False})
    errors: dict[str, Any] = (
        {} if form.validate() else {name: messages[0] for name, messages in form.errors.items()}
    )
    if not isinstance(body.get("offering"), str) or not body.get("offering"):
        errors["offering"] = _("This field is required.")
    if errors:
        return _errors(errors)
    try:
        submitted = submit_request(
            get_session(),
            form.to_request(body["offering"]),
            service.today_in_montreal(),
            dt.datetime.now(dt.UTC),
        )
    except UnknownOffering:
        return _errors({"offering": _("Unknown offering.")})
    except InvalidBooking as error:
        return _errors(error.errors)
    except DatesTaken as error:
        windows = [
            {"start": w.start.isoformat(), "end": w.end.isoformat()} for w in error.next_available
        ]
        return jsonify(error=_("Those dates are no longer free."), next_available=windows), 409
    booking = submitted.booking
    return jsonify(
        reference=booking.reference,
        status=booking.status,
        offering=body["offering"],
        start=booking.start_date.isoformat(),
        end=booking.end_date.isoformat(),
        manage_url=submitted.manage_url,
    ), 201


def _type_errors(body: dict[str, Any]) -> dict[str, str]:
    errors = {}
    for name in ("offering", *TEXT_FIELDS):
        value = body.get(name)
        if value is not None and not isinstance(value, str):
            errors[name] = _("Must be text.")
        elif isinstance(value, str) and not is_storable(value):
            errors[name] = str(UNSTORABLE)
    for name in WHOLE_NUMBER_FIELDS:
        value = body.get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            errors[name] = _("Must be a whole number.")
    for name in YES_NO_FIELDS:
        value = body.get(name)
        if value is not None and not isinstance(value, bool):
            errors[name] = _("Must be true or false.")
    return errors


def _as_form_data(body: dict[str, Any]) -> MultiDict:
    data: MultiDict = MultiDict()
    for name in (*TEXT_FIELDS, *WHOLE_NUMBER_FIELDS):
        if body.get(name) is not None:
            data[name] = str(body[name])
    for name in YES_NO_FIELDS:
        if body.get(name) is not None:
            data[name] = "yes" if body[name] else "no"
    return data
