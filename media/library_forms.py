"""The portrait library's forms: what staff write about a portrait, and a move up or down."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    RadioField,
    SelectChoice,
    StringField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Optional

from core.clock import today_local
from core.forms import RuleCheckedForm
from media.library_service import DATES, LENGTHS, TEXTS, text_errors
from media.portraits import PortraitText

DATE_MESSAGE = _l("Enter a date (YYYY-MM-DD).")
MOVE_MESSAGE = _l("Say which way to move it: up or down.")


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def _caption(label: Any, name: str) -> TextAreaField:
    return TextAreaField(label, filters=[_strip], render_kw={"maxlength": LENGTHS[name], "rows": 3})


def _line(label: Any, name: str) -> StringField:
    return StringField(label, filters=[_strip], render_kw={"maxlength": LENGTHS[name]})


def _date(label: Any) -> DateField:
    return DateField(label, validators=[Optional()], invalid_value_message=DATE_MESSAGE)


class PortraitForm(RuleCheckedForm):
    caption_fr = _caption(_l("Caption in French"), "caption_fr")
    caption_es = _caption(_l("Caption in Spanish"), "caption_es")
    caption_en = _caption(_l("Caption in English"), "caption_en")
    alt_fr = _line(_l("Alt text in French"), "alt_fr")
    alt_es = _line(_l("Alt text in Spanish"), "alt_es")
    alt_en = _line(_l("Alt text in English"), "alt_en")
    place = _line(_l("Place"), "place")
    country = _line(_l("Country"), "country")
    credit = _line(_l("Photographer credit"), "credit")
    consent_given_on = _date(_l("Consent given on"))
    consent_valid_until = _date(_l("Consent valid until (empty: no end)"))
    consent_withdrawn_on = _date(_l("Consent withdrawn on"))
    published = BooleanField(_l("Published: shown on the screens and the public pages"))

    def validate(self, extra_validators: Any = None) -> bool:
        """The fields that could be read are checked by the library's rules
        (media.library_service.text_errors), so every field says what is wrong at once."""
        read = super().validate(extra_validators)
        unreadable = {name for name in DATES if self[name].errors}
        errors = text_errors(self.text(), today_local())
        self.attach({name: message for name, message in errors.items() if name not in unreadable})
        return read and not self.errors

    def text(self) -> PortraitText:
        """What was typed; a date that could not be read counts as none (its field says so)."""
        return PortraitText(
            **{name: self[name].data or "" for name in TEXTS},
            **{name: None if self[name].errors else self[name].data for name in DATES},
            published=bool(self.published.data),
        )


class MoveForm(FlaskForm):
    class Meta:
        csrf = False  # CSRFProtect checks every POST already; the list form carries the token

    direction = RadioField(
        choices=[SelectChoice("up", _l("Up")), SelectChoice("down", _l("Down"))],
        validators=[InputRequired(MOVE_MESSAGE)],
    )

    def steps(self) -> int:
        return -1 if self.direction.data == "up" else 1
