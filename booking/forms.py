"""The request form, drawn from the booking schema: WTForms renders it and checks its CSRF
token, the schema (booking.schema) decides what is valid, as it does for the API."""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from pydantic import BaseModel
from werkzeug.datastructures import MultiDict
from wtforms import Field, RadioField, SelectChoice, SelectField, StringField, TextAreaField

from booking import schema
from booking.catalog import CatalogOffering
from core.i18n import LANGUAGES

HTML_INPUT_TYPES = ("email", "tel", "date", "time", "number")  # widgets that are <input type=…>


@dataclass(frozen=True)
class FormInput:
    field: Field
    spec: schema.Input
    required: bool


class RequestForm(FlaskForm):
    """The fields come from the schema (see form_class); this holds what they share."""

    # Hidden from people (CSS and aria-hidden); a bot that fills every field fills this one.
    leave_empty = StringField(_l("Leave this field empty"))

    schema: type[BaseModel]

    @property
    def is_spam(self) -> bool:
        return bool(self.leave_empty.data)

    def in_group(self, group: str, offering: CatalogOffering) -> list[FormInput]:
        """The fields of one fieldset that the offering asks (booking.schema.Trait), each
        labelled for it and marked required when the offering requires it."""
        inputs = []
        for name, (field, spec) in schema.form_fields(self.schema).items():
            if spec.group != group or not spec.is_asked_by(offering):
                continue
            self[name].label.text = spec.label_for(offering)
            inputs.append(FormInput(self[name], spec, schema.is_required(field, spec)))
        return inputs

    def dates(self, offering: CatalogOffering) -> tuple[dt.date | None, dt.date | None]:
        """The first and last day as typed (None: missing or not a date); the last day of
        an offering that does not ask for it follows from the first."""
        start = schema.read_date(self.start.data)
        if schema.input_of(self.schema.model_fields["end"]).is_asked_by(offering):
            return start, schema.read_date(self.end.data)
        return start, schema.fixed_end(offering, start) if start else None

    def submitted(self, offering: CatalogOffering) -> schema.BookingRequest | None:
        """The request the union typed, or None with each field's error attached to it.
        Only the questions the offering asks are read (the page showed no other)."""
        values: dict[str, Any] = {"offering": offering.slug}
        for name in schema.form_fields(self.schema):
            value = self[name].data
            if isinstance(value, str) and value.strip():
                values[name] = value
        request, errors = schema.read_request(self.schema, offering, values)
        self.attach_errors(errors)
        return request

    def attach_errors(self, errors: dict[str, Any]) -> None:
        for name, message in errors.items():
            if name in self:
                self[name].errors = [*self[name].errors, message]


@functools.cache
def form_class(request_schema: type[BaseModel]) -> type[RequestForm]:
    """A form with one input per field of the schema that a person fills in."""
    fields: dict[str, Any] = {"schema": request_schema}
    for name, (_field, spec) in schema.form_fields(request_schema).items():
        fields[name] = _input(spec)
    return type(f"{request_schema.__name__}Form", (RequestForm,), fields)


def _input(spec: schema.Input) -> Field:
    if spec.widget == "textarea":
        return TextAreaField(spec.label)
    if spec.widget in ("select", "radio"):
        kind = SelectField if spec.widget == "select" else RadioField
        choices = [
            SelectChoice(value, label, render_kw={"lang": value} if value in LANGUAGES else {})
            for value, label in spec.choices
        ]
        return kind(spec.label, choices=choices, validate_choice=False)
    render_kw = {"type": spec.widget} if spec.widget in HTML_INPUT_TYPES else {}
    render_kw.update(spec.attributes)
    if spec.autocomplete:
        render_kw["autocomplete"] = spec.autocomplete
    return StringField(spec.label, render_kw=render_kw, filters=[_strip])


def _strip(value: object) -> object:
    """Shown back as the schema reads it, less the spaces around it."""
    return value.strip() if isinstance(value, str) else value


def booking_form(formdata: MultiDict | None = None, **kwargs: Any) -> RequestForm:
    return form_class(schema.BookingRequest)(formdata, **kwargs)
