"""A union's booking request, described once: the rules of each field, how the form draws it,
and what the API's OpenAPI document says of it all come from `BookingRequest` below."""

from __future__ import annotations

import datetime as dt
import re
import types
import unicodedata
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from email_validator import EmailNotValidError, validate_email
from flask_babel import lazy_gettext as _l
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    TypeAdapter,
    ValidationError,
)
from pydantic.fields import FieldInfo
from pydantic_core import PydanticCustomError

from booking.models import VenueSetting
from core.i18n import LANGUAGES

REQUIRED = _l("This field is required.")
UNSTORABLE = _l("Remove the characters that are not letters or signs.")
NOT_A_DATE = _l("Enter a date as YYYY-MM-DD.")
NOT_A_NUMBER = _l("Enter a whole number.")
MUST_BE_TEXT = _l("Must be text.")
MUST_BE_NUMBER = _l("Must be a whole number.")
MUST_BE_YES_NO = _l("Must be true or false.")
MAX_AUDIENCE = 100_000
MAX_WALL_METRES = 1_000
ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
PHONE = re.compile(r"[0-9+()., \-]{7,40}")


@dataclass(frozen=True)
class Input:
    """How a field is asked for on the form, and what to say when its value breaks its rule."""

    label: Any
    group: str | None  # the form's fieldset ("dates", "who", "where"); None: not on the form
    widget: str = "text"  # text, textarea, email, tel, date, number, select, radio
    invalid: Any = None  # the message for a value that breaks the field's rule
    hint: Any = None
    autocomplete: str | None = None
    exhibition_only: bool = False  # asked of exhibitions only, and required there
    choices: tuple[tuple[str, Any], ...] = ()


def is_storable(text: str) -> bool:
    """Python strings (from JSON, say) may hold lone surrogates, which no database keeps."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _plain_text(allow_line_breaks: bool):  # type: ignore[no-untyped-def]
    """Refuses what no person types and no database keeps: control characters (line breaks
    too, unless allowed), NUL bytes, and text that is not valid Unicode."""
    allowed = "\n\r\t" if allow_line_breaks else ""

    def check(value: str) -> str:
        if not is_storable(value):
            raise PydanticCustomError("unstorable", "not storable")
        if any(unicodedata.category(c) == "Cc" and c not in allowed for c in value):
            raise PydanticCustomError(
                "control_characters_in_text" if allow_line_breaks else "control_characters",
                "control characters",
            )
        return value

    return AfterValidator(check)


def _iso_date(value: object) -> object:
    if isinstance(value, str) and not ISO_DATE.fullmatch(value):
        raise PydanticCustomError("not_a_date", "not a date")
    return value


def _email(value: str) -> str:
    """An address every mail server takes: an ASCII local part (a non-ASCII one needs
    SMTPUTF8, which most servers refuse), the domain kept in its ASCII form."""
    if "=?" in value:  # an encoded word: mail programs would decode it into header lines
        raise PydanticCustomError("invalid", "not an email")
    try:
        address = validate_email(
            value, check_deliverability=False, allow_empty_local=False, allow_smtputf8=False
        )
    except EmailNotValidError as error:
        raise PydanticCustomError("invalid", "not an email") from error
    return address.ascii_email or value


def _phone(value: str) -> str:
    if not PHONE.fullmatch(value):
        raise PydanticCustomError("invalid", "not a phone number")
    return value


def _text(max_length: int) -> Any:
    return Annotated[
        str, StringConstraints(min_length=1, max_length=max_length), _plain_text(False)
    ]


IsoDate = Annotated[dt.date, BeforeValidator(_iso_date)]
_DATE = TypeAdapter(IsoDate)


def read_date(value: object) -> dt.date | None:
    """A date as the form takes it (YYYY-MM-DD), or None."""
    try:
        return _DATE.validate_python(value)
    except ValidationError:
        return None


Audience = Annotated[int, Field(ge=1, le=MAX_AUDIENCE)]
WallMetres = Annotated[int, Field(ge=1, le=MAX_WALL_METRES)]
Notes = Annotated[str, StringConstraints(max_length=2000), _plain_text(True)]


class BookingRequest(BaseModel):
    """What a union asks for. Values that pass here may still break the booking rules
    (booking.service), which know the offering and the calendar."""

    model_config = ConfigDict(frozen=True, str_strip_whitespace=True, extra="ignore")

    offering: Annotated[_text(80), Input(_l("Offering"), None)]
    start: Annotated[IsoDate, Input(_l("First day"), "dates", widget="date")]
    end: Annotated[IsoDate, Input(_l("Last day"), "dates", widget="date")]
    organization: Annotated[
        _text(200), Input(_l("Union or organization"), "who", autocomplete="organization")
    ]
    contact_name: Annotated[_text(200), Input(_l("Contact person"), "who", autocomplete="name")]
    email: Annotated[
        _text(254),
        AfterValidator(_email),
        Input(
            _l("Email"),
            "who",
            widget="email",
            autocomplete="email",
            invalid=_l("Enter a valid email address, like name@example.org."),
        ),
    ]
    phone: Annotated[
        _text(40),
        AfterValidator(_phone),
        Input(
            _l("Phone"),
            "who",
            widget="tel",
            autocomplete="tel",
            invalid=_l("Enter a phone number, like 514-383-2266."),
        ),
    ]
    language: Annotated[
        Literal[LANGUAGES],
        Input(
            _l("Language for our messages"),
            "who",
            widget="select",
            invalid=_l("Choose French (fr) or English (en)."),
            choices=(("fr", "Français"), ("en", "English")),
        ),
    ]
    venue: Annotated[_text(200), Input(_l("Venue"), "where")]
    address: Annotated[
        _text(300), Input(_l("Street address"), "where", autocomplete="street-address")
    ]
    city: Annotated[_text(120), Input(_l("City"), "where", autocomplete="address-level2")]
    audience: Annotated[
        Audience,
        Input(
            _l("Expected audience (people)"),
            "where",
            widget="number",
            invalid=_l("Enter a number from 1 to %(max)s.", max=MAX_AUDIENCE),
        ),
    ]
    wall_metres: Annotated[
        WallMetres | None,
        Input(
            _l("Running metres of wall available"),
            "where",
            widget="number",
            hint=_l("The portraits need about one metre of wall each."),
            invalid=_l("Enter a number from 1 to %(max)s.", max=MAX_WALL_METRES),
            exhibition_only=True,
        ),
    ] = None
    venue_setting: Annotated[
        VenueSetting | None,
        Input(
            _l("The venue is"),
            "where",
            widget="radio",
            invalid=_l("Tell us whether the venue is indoor or outdoor."),
            exhibition_only=True,
            choices=(("indoor", _l("Indoor")), ("outdoor", _l("Outdoor"))),
        ),
    ] = None
    secure_storage: Annotated[
        bool | None,
        Input(
            _l("Can the crates be stored in a locked room?"),
            "where",
            widget="radio",
            invalid=_l("Tell us whether the crates can be stored securely."),
            exhibition_only=True,
            choices=(("yes", _l("Yes")), ("no", _l("No"))),
        ),
    ] = None
    notes: Annotated[Notes, Input(_l("Notes (optional)"), "where", widget="textarea")] = ""


# --- reading the schema ------------------------------------------------------------------


def input_of(field: FieldInfo) -> Input:
    return next(item for item in field.metadata if isinstance(item, Input))


def form_fields(schema: type[BaseModel]) -> dict[str, tuple[FieldInfo, Input]]:
    """The fields a person fills in, in the schema's order."""
    return {
        name: (field, input_of(field))
        for name, field in schema.model_fields.items()
        if input_of(field).group is not None
    }


def json_kind(field: FieldInfo) -> str:
    """What JSON value the field takes: "text", "number" or "yes-no"."""
    annotation = field.annotation
    if get_origin(annotation) in (Union, types.UnionType):
        annotation = next(arg for arg in get_args(annotation) if arg is not type(None))
    if get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    if annotation is bool:
        return "yes-no"
    if annotation is int:
        return "number"
    return "text"


KIND_MESSAGES = {"text": MUST_BE_TEXT, "number": MUST_BE_NUMBER, "yes-no": MUST_BE_YES_NO}


def json_type_errors(schema: type[BaseModel], body: dict[str, Any]) -> dict[str, Any]:
    """Values of the wrong JSON type (a number for a name, "80" for the audience): a script
    is told the type; null is taken as absent."""
    errors = {}
    for name, field in schema.model_fields.items():
        value = body.get(name)
        if value is None:
            continue
        kind = json_kind(field)
        right = {
            "text": isinstance(value, str),
            "number": isinstance(value, int) and not isinstance(value, bool),
            "yes-no": isinstance(value, bool),
        }[kind]
        if not right:
            errors[name] = KIND_MESSAGES[kind]
        elif kind == "text" and not is_storable(value):
            errors[name] = UNSTORABLE
    return errors


def without_exhibition_answers(schema: type[BaseModel], values: dict[str, Any]) -> dict[str, Any]:
    """A training asks no venue question: what was sent for one is neither checked nor kept."""
    return {
        name: value
        for name, value in values.items()
        if name not in schema.model_fields
        or not input_of(schema.model_fields[name]).exhibition_only
    }


def messages(schema: type[BaseModel], error: ValidationError) -> dict[str, Any]:
    """One message per field, in the user's language (lazy), from pydantic's errors."""
    found: dict[str, Any] = {}
    for problem in error.errors():
        name = str(problem["loc"][0]) if problem["loc"] else "body"
        if name not in found and name in schema.model_fields:
            found[name] = _message(input_of(schema.model_fields[name]), problem)
    return found


def _message(field: Input, problem: Any) -> Any:
    kind = problem["type"]
    if kind in ("missing", "string_too_short"):
        return REQUIRED
    if kind == "string_too_long":
        return _l("At most %(max)d characters.", max=problem["ctx"]["max_length"])
    if kind == "unstorable":
        return UNSTORABLE
    if kind == "control_characters":
        return _l("Remove line breaks and control characters.")
    if kind == "control_characters_in_text":
        return _l("Remove the control characters.")
    if field.widget == "date":
        return NOT_A_DATE
    if kind in ("int_parsing", "int_from_float"):
        return NOT_A_NUMBER
    return field.invalid or REQUIRED
