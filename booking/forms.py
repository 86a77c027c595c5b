"""The request form, shared by the HTML page and the JSON API so both apply the same field rules."""

from __future__ import annotations

import unicodedata

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    EmailField,
    Field,
    IntegerField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    AnyOf,
    DataRequired,
    Email,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    ValidationError,
)

from booking.service import BookingRequest
from core.i18n import LANGUAGES

REQUIRED = _l("This field is required.")
UNSTORABLE = _l("Remove the characters that are not letters or signs.")
NOT_A_DATE = _l("Enter a date as YYYY-MM-DD.")
NOT_A_NUMBER = _l("Enter a whole number.")
MAX_AUDIENCE = 100_000
MAX_WALL_METRES = 1_000
PHONE_PATTERN = r"^[0-9+()., \-]{7,40}$"


def is_storable(text: str) -> bool:
    """Python strings (from JSON, say) may hold lone surrogates, which no database keeps."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


class PlainText:
    """Refuses what no person types and no database keeps: control characters (line breaks
    too, unless allowed), NUL bytes, and text that is not valid Unicode."""

    def __init__(self, allow_line_breaks: bool = False) -> None:
        self.allowed = "\n\r\t" if allow_line_breaks else ""

    def __call__(self, form: FlaskForm, field: Field) -> None:
        value = field.data
        if not isinstance(value, str):
            return
        if not is_storable(value):
            raise ValidationError(UNSTORABLE)
        if any(unicodedata.category(c) == "Cc" and c not in self.allowed for c in value):
            raise ValidationError(
                _l("Remove line breaks and control characters.")
                if not self.allowed
                else _l("Remove the control characters.")
            )


def _strip(value: object) -> object:
    return value.strip() if isinstance(value, str) else value


def _text(label: str, max_length: int) -> StringField:
    return StringField(
        label,
        validators=[
            DataRequired(message=REQUIRED),
            Length(max=max_length, message=_l("At most %(max)d characters.")),
            PlainText(),
        ],
        filters=[_strip],
    )


class BookingForm(FlaskForm):
    start = DateField(_l("First day"), validators=[InputRequired(message=REQUIRED)])
    end = DateField(_l("Last day"), validators=[InputRequired(message=REQUIRED)])
    organization = _text(_l("Union or organization"), 200)
    contact_name = _text(_l("Contact person"), 200)
    email = EmailField(
        _l("Email"),
        validators=[
            DataRequired(message=REQUIRED),
            Length(max=254, message=_l("At most %(max)d characters.")),
            PlainText(),
            Email(message=_l("Enter a valid email address, like name@example.org.")),
        ],
        filters=[_strip],
    )
    phone = StringField(
        _l("Phone"),
        validators=[
            DataRequired(message=REQUIRED),
            PlainText(),
            Regexp(PHONE_PATTERN, message=_l("Enter a phone number, like 514-383-2266.")),
        ],
        filters=[_strip],
    )
    venue = _text(_l("Venue"), 200)
    address = _text(_l("Street address"), 300)
    city = _text(_l("City"), 120)
    audience = IntegerField(
        _l("Expected audience (people)"),
        validators=[
            InputRequired(message=REQUIRED),
            NumberRange(min=1, max=MAX_AUDIENCE, message=_l("Enter a number from 1 to %(max)s.")),
        ],
    )
    language = SelectField(
        _l("Language for our messages"),
        choices=[
            SelectChoice("fr", "Français", render_kw={"lang": "fr"}),
            SelectChoice("en", "English", render_kw={"lang": "en"}),
        ],
        validate_choice=False,  # AnyOf says which values are allowed
        validators=[
            InputRequired(message=REQUIRED),
            AnyOf(LANGUAGES, message=_l("Choose French (fr) or English (en).")),
        ],
    )
    notes = TextAreaField(
        _l("Notes (optional)"),
        validators=[
            Optional(),
            Length(max=2000, message=_l("At most %(max)d characters.")),
            PlainText(allow_line_breaks=True),
        ],
    )
    wall_metres = IntegerField(
        _l("Running metres of wall available"),
        validators=[
            Optional(),
            NumberRange(
                min=1, max=MAX_WALL_METRES, message=_l("Enter a number from 1 to %(max)s.")
            ),
        ],
    )
    venue_setting = RadioField(
        _l("The venue is"),
        choices=[SelectChoice("indoor", _l("Indoor")), SelectChoice("outdoor", _l("Outdoor"))],
        validate_choice=False,  # checked by the booking rules, which know the offering
    )
    secure_storage = RadioField(
        _l("Can the crates be stored in a locked room?"),
        choices=[SelectChoice("yes", _l("Yes")), SelectChoice("no", _l("No"))],
        validate_choice=False,
    )
    # Hidden from people (CSS and aria-hidden); a bot that fills every field fills this one.
    leave_empty = StringField(_l("Leave this field empty"))

    def process(self, formdata=None, obj=None, data=None, extra_filters=None, **kwargs):  # type: ignore[no-untyped-def]
        super().process(formdata, obj, data, extra_filters, **kwargs)
        for field in (self.start, self.end, self.audience, self.wall_metres):
            field.process_errors = [_invalid_message(field) for _ in field.process_errors]

    @property
    def is_spam(self) -> bool:
        return bool(self.leave_empty.data)

    def to_request(self, offering: str) -> BookingRequest:
        storage = self.secure_storage.data
        return BookingRequest(
            offering=offering,
            start=self.start.data,
            end=self.end.data,
            organization=self.organization.data,
            contact_name=self.contact_name.data,
            email=self.email.data,
            phone=self.phone.data,
            venue=self.venue.data,
            address=self.address.data,
            city=self.city.data,
            audience=self.audience.data,
            language=self.language.data,
            notes=(self.notes.data or "").strip(),
            wall_metres=self.wall_metres.data,
            venue_setting=self.venue_setting.data or None,
            secure_storage=None if storage not in ("yes", "no") else storage == "yes",
        )


def _invalid_message(field) -> str:  # type: ignore[no-untyped-def]
    return NOT_A_DATE if isinstance(field, DateField) else NOT_A_NUMBER
