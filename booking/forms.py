"""The request form, drawn from the booking schema: WTForms renders it and checks its CSRF
token, the schema (booking.schema) decides what is valid, as it does for the API."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from pydantic import BaseModel, ValidationError
from werkzeug.datastructures import MultiDict
from wtforms import Field, RadioField, SelectChoice, SelectField, StringField, TextAreaField

from booking import schema
from core.i18n import LANGUAGES

HTML_INPUT_TYPES = ("email", "tel", "date", "number")  # widgets that are <input type=…>


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

    def in_group(self, group: str, exhibition: bool) -> list[FormInput]:
        """The fields of one fieldset, less the exhibition's questions for a training."""
        return [
            FormInput(self[name], spec, field.is_required())
            for name, (field, spec) in schema.form_fields(self.schema).items()
            if spec.group == group and (exhibition or not spec.exhibition_only)
        ]

    def submitted(self, offering: str, exhibition: bool) -> schema.BookingRequest | None:
        """The request the union typed, or None with each field's error attached to it.
        Only the fields the page showed are read: a training is asked no venue question."""
        values: dict[str, Any] = {"offering": offering}
        for name in schema.form_fields(self.schema):
            value = self[name].data
            if isinstance(value, str) and value.strip():
                values[name] = value
        if not exhibition:
            values = schema.without_exhibition_answers(self.schema, values)
        try:
            return self.schema.model_validate(values)
        except ValidationError as error:
            self.attach_errors(schema.messages(self.schema, error))
            return None

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
    if spec.autocomplete:
        render_kw["autocomplete"] = spec.autocomplete
    return StringField(spec.label, render_kw=render_kw, filters=[_strip])


def _strip(value: object) -> object:
    """Shown back as the schema reads it, less the spaces around it."""
    return value.strip() if isinstance(value, str) else value


def booking_form(formdata: MultiDict | None = None, **kwargs: Any) -> RequestForm:
    return form_class(schema.BookingRequest)(formdata, **kwargs)
