"""A union's booking request, described once: the rules of each field, which offerings ask
it, how the form draws it, and what the API's OpenAPI document says of it all come from
`BookingRequest` below."""

from __future__ import annotations

import datetime as dt
import re
import types
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any, Literal, Union, get_args, get_origin

from email_validator import EmailNotValidError, validate_email
from flask import Flask
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
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

from booking.holidays import reader_language
from booking.models import OfferingKind, SiteGround, SitePermits, VenueSetting
from booking.phones import phone_link, read_phone, show_phone
from core.i18n import LANGUAGES, with_colon

if TYPE_CHECKING:
    from booking.catalog import CatalogOffering

REQUIRED = _l("This field is required.")
UNSTORABLE = _l("Remove the characters that are not letters or signs.")
NOT_A_DATE = _l("Enter a date as YYYY-MM-DD.")
NOT_A_NUMBER = _l("Enter a whole number.")
MUST_BE_TEXT = _l("Must be text.")
MUST_BE_NUMBER = _l("Must be a whole number.")
MUST_BE_YES_NO = _l("Must be true or false.")
MAX_AUDIENCE = 100_000
MAX_PARTICIPANTS = 200
MAX_WALL_METRES = 1_000
# A training starts within a working day, evenings included.
EARLIEST_START_TIME = dt.time(7, 0)
LATEST_START_TIME = dt.time(20, 0)
EXAMPLE_START_TIME = dt.time(9, 30)
ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# "09:30" as a time input sends it (seconds too, with some browsers), "9:30", "9 h 30", "9h".
CLOCK_TIME = re.compile(
    r"(?P<hour>[01]?[0-9]|2[0-3])"
    r"(?::(?P<minute>[0-5][0-9])(?::00(?:\.0+)?)?|\s*h\s*(?P<french_minute>[0-5][0-9])?)",
    re.IGNORECASE,
)


# --- which offering asks what ----------------------------------------------------------------


class Trait(StrEnum):
    """What about an offering makes a question worth asking. A question (Input.asked_of)
    is asked of the offerings that have one of its traits, and is then required of them;
    a question with no traits is asked of every offering. Nothing is asked that the offering
    answers itself: an outdoor set is outdoors, a one-day training ends the day it starts."""

    INDOOR_EXHIBITION = "indoor exhibition"  # an exhibition without a setting too
    OUTDOOR_EXHIBITION = "outdoor exhibition"
    TRAINING = "training"
    CHOSEN_LENGTH = "chosen length"  # min_days < max_days: the union chooses the last day
    ONE_DAY = "one day"  # one date says it all


EXHIBITIONS = frozenset({Trait.INDOOR_EXHIBITION, Trait.OUTDOOR_EXHIBITION})


def traits(offering: CatalogOffering) -> frozenset[Trait]:
    if offering.kind == OfferingKind.TRAINING:
        kind = Trait.TRAINING
    elif offering.venue_setting == VenueSetting.OUTDOOR:
        kind = Trait.OUTDOOR_EXHIBITION
    else:
        kind = Trait.INDOOR_EXHIBITION
    found = {kind}
    if offering.min_days != offering.max_days:
        found.add(Trait.CHOSEN_LENGTH)
    elif offering.max_days == 1:
        found.add(Trait.ONE_DAY)
    return frozenset(found)


def fixed_end(offering: CatalogOffering, start: dt.date) -> dt.date:
    """The last day of an offering whose length is fixed, which no one is asked for. A
    first day typed too near the end of the calendar (year 9999) ends on its last day: the
    rules refuse it as too far ahead, where adding its length would raise OverflowError."""
    try:
        return start + dt.timedelta(days=offering.min_days - 1)
    except OverflowError:
        return dt.date.max


@dataclass(frozen=True)
class Input:
    """How a field is asked for on the form, which offerings ask it, and what to say when its
    value is missing or breaks its rule."""

    label: Any
    group: str | None  # the form's fieldset ("dates", "who", "where"); None: not on the form
    widget: str = "text"  # text, textarea, email, tel, date, time, number, select, radio
    invalid: Any = None  # the message for a value that breaks the field's rule
    hint: Any = None
    autocomplete: str | None = None
    # The offerings that ask it (see Trait), and require it; None: every offering.
    asked_of: frozenset[Trait] | None = None
    missing: Any = None  # the message when an offering that requires it gets no answer
    choices: tuple[tuple[str, Any], ...] = ()
    labels: tuple[tuple[Trait, Any], ...] = ()  # another label for offerings with a trait
    attributes: tuple[tuple[str, str], ...] = ()  # the HTML input's own (min, max)

    def is_asked_by(self, offering: CatalogOffering) -> bool:
        return self.asked_of is None or bool(self.asked_of & traits(offering))

    def label_for(self, offering: CatalogOffering) -> Any:
        found = traits(offering)
        return next((label for trait, label in self.labels if trait in found), self.label)


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
    """Kept in one form (booking.phones), whatever way it was written."""
    stored = read_phone(value)
    if stored is None:
        raise PydanticCustomError("invalid", "not a phone number")
    return stored


def _clock_time(value: object) -> object:
    if isinstance(value, str):
        read = CLOCK_TIME.fullmatch(value.strip())
        if read is None:
            raise PydanticCustomError("not_a_time", "not a time")
        minute = read["minute"] or read["french_minute"] or 0
        return dt.time(int(read["hour"]), int(minute))
    return value


def _within_training_hours(value: dt.time) -> dt.time:
    if not EARLIEST_START_TIME <= value <= LATEST_START_TIME:
        raise PydanticCustomError("too_early_or_late", "outside the training hours")
    return value


def clock_time(time: dt.time) -> str:
    """A time as people write it: "9 h 30", "20 h" in French, "9:30 a.m." in English."""
    if reader_language() == "fr":
        return f"{time.hour} h {time.minute:02d}" if time.minute else f"{time.hour} h"
    meridiem = "a.m." if time.hour < 12 else "p.m."
    return f"{(time.hour - 1) % 12 + 1}:{time.minute:02d} {meridiem}"


def _start_time_message() -> str:
    return _(
        "Enter a start time from %(earliest)s to %(latest)s (for example, %(example)s).",
        earliest=clock_time(EARLIEST_START_TIME),
        latest=clock_time(LATEST_START_TIME),
        example=clock_time(EXAMPLE_START_TIME),
    )


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
Participants = Annotated[int, Field(ge=1, le=MAX_PARTICIPANTS)]
WallMetres = Annotated[int, Field(ge=1, le=MAX_WALL_METRES)]
StartTime = Annotated[dt.time, BeforeValidator(_clock_time), AfterValidator(_within_training_hours)]
Notes = Annotated[str, StringConstraints(max_length=2000), _plain_text(True)]
YES_NO = (("yes", _l("Yes")), ("no", _l("No")))


def _one_of(values: type[StrEnum]) -> Any:
    return _l("Choose one of: %(values)s.", values=", ".join(values))


class BookingRequest(BaseModel):
    """What a union asks for. Values that pass here may still break the booking rules
    (booking.service), which know the offering and the calendar. A field that only some
    offerings ask (Input.asked_of) may be left out here: booking.service.question_errors
    says when an offering requires it."""

    model_config = ConfigDict(frozen=True, str_strip_whitespace=True, extra="ignore")

    offering: Annotated[_text(80), Input(_l("Offering"), None)]
    start: Annotated[
        IsoDate,
        Input(_l("First day"), "dates", widget="date", labels=((Trait.ONE_DAY, _l("Date")),)),
    ]
    # Required here (the waitlist reads it too); derived before it is read when the
    # offering's length is fixed (with_fixed_end, as_asked).
    end: Annotated[
        IsoDate,
        Input(_l("Last day"), "dates", widget="date", asked_of=frozenset({Trait.CHOSEN_LENGTH})),
    ]
    start_time: Annotated[
        StartTime | None,
        Input(
            _l("Start time"),
            "dates",
            widget="time",
            invalid=LazyString(_start_time_message),
            missing=_l("Tell us at what time the training starts."),
            asked_of=frozenset({Trait.TRAINING}),
            attributes=(
                ("min", EARLIEST_START_TIME.strftime("%H:%M")),
                ("max", LATEST_START_TIME.strftime("%H:%M")),
            ),
        ),
    ] = None
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
        _text(60),
        AfterValidator(_phone),
        Input(
            _l("Phone"),
            "who",
            widget="tel",
            autocomplete="tel",
            hint=_l("With the extension, if there is one."),
            invalid=_l("Enter a phone number, like 514-383-2266, ext. 225."),
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
        Audience | None,
        Input(
            _l("Expected audience (people)"),
            "where",
            widget="number",
            invalid=_l("Enter a number from 1 to %(max)s.", max=MAX_AUDIENCE),
            missing=REQUIRED,
            asked_of=EXHIBITIONS,
        ),
    ] = None
    participants: Annotated[
        Participants | None,
        Input(
            _l("Number of participants"),
            "where",
            widget="number",
            invalid=_l("Enter a number from 1 to %(max)s.", max=MAX_PARTICIPANTS),
            missing=_l("Tell us how many people will take part."),
            asked_of=frozenset({Trait.TRAINING}),
            attributes=(("max", str(MAX_PARTICIPANTS)),),
        ),
    ] = None
    wall_metres: Annotated[
        WallMetres | None,
        Input(
            _l("Running metres of wall available"),
            "where",
            widget="number",
            hint=_l("The portraits need about one metre of wall each."),
            invalid=_l("Enter a number from 1 to %(max)s.", max=MAX_WALL_METRES),
            missing=_l("Tell us how many metres of wall the portraits can hang on."),
            asked_of=frozenset({Trait.INDOOR_EXHIBITION}),
        ),
    ] = None
    secure_storage: Annotated[
        bool | None,
        Input(
            _l("Can the crates be stored in a locked room?"),
            "where",
            widget="radio",
            invalid=_l("Tell us whether the crates can be stored securely."),
            missing=_l("Tell us whether the crates can be stored securely."),
            asked_of=frozenset({Trait.INDOOR_EXHIBITION}),
            choices=YES_NO,
        ),
    ] = None
    site_ground: Annotated[
        SiteGround | None,
        Input(
            _l("What will the panels stand on?"),
            "where",
            widget="radio",
            invalid=_one_of(SiteGround),
            missing=_l("Tell us what the panels will stand on."),
            asked_of=frozenset({Trait.OUTDOOR_EXHIBITION}),
            choices=(
                (SiteGround.GRASS, _l("Grass")),
                (SiteGround.PAVED, _l("Pavement or asphalt")),
                (SiteGround.GRAVEL, _l("Gravel")),
                (SiteGround.OTHER, _l("Other (tell us in the notes)")),
            ),
        ),
    ] = None
    site_permits: Annotated[
        SitePermits | None,
        Input(
            _l("Permits to install the panels (city, park or owner of the site)"),
            "where",
            widget="radio",
            invalid=_one_of(SitePermits),
            missing=_l("Tell us where the permits for the site stand."),
            asked_of=frozenset({Trait.OUTDOOR_EXHIBITION}),
            choices=(
                (SitePermits.OBTAINED, _l("Obtained")),
                (SitePermits.REQUESTED, _l("Asked for, answer pending")),
                (SitePermits.NOT_NEEDED, _l("Not needed on this site")),
                (SitePermits.UNKNOWN, _l("We don't know yet")),
            ),
        ),
    ] = None
    site_power: Annotated[
        bool | None,
        Input(
            _l("Is there electrical power on the site?"),
            "where",
            widget="radio",
            invalid=_l("Tell us whether there is electrical power on the site."),
            missing=_l("Tell us whether there is electrical power on the site."),
            asked_of=frozenset({Trait.OUTDOOR_EXHIBITION}),
            choices=YES_NO,
        ),
    ] = None
    site_guard: Annotated[
        _text(200) | None,
        Input(
            _l("Who watches over the panels at night?"),
            "where",
            hint=_l("A person, a security service, a locked enclosure…"),
            missing=_l("Tell us who watches over the panels at night."),
            asked_of=frozenset({Trait.OUTDOOR_EXHIBITION}),
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


def is_required(field: FieldInfo, spec: Input) -> bool:
    """Required of the offerings that ask it: a question some offerings ask is required of
    them, as is a field the schema itself requires."""
    return field.is_required() or spec.asked_of is not None


def asked(schema: type[BaseModel], offering: CatalogOffering) -> dict[str, tuple[FieldInfo, Input]]:
    """The fields the offering asks for (those off the form too), in the schema's order."""
    return {
        name: (field, input_of(field))
        for name, field in schema.model_fields.items()
        if input_of(field).is_asked_by(offering)
    }


def answers_asked(
    schema: type[BaseModel], offering: CatalogOffering | None, values: Mapping[str, Any]
) -> dict[str, Any]:
    """What was sent for the questions the offering asks: an answer it never asked for (a
    training's wall metres, an outdoor set's locked room) is neither checked nor kept.
    Without an offering (an unknown one, which the rules refuse) every answer is read."""
    if offering is None:
        return dict(values)
    fields = asked(schema, offering)
    return {name: value for name, value in values.items() if name in fields}


def _is_blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def missing_answers(
    schema: type[BaseModel], offering: CatalogOffering, values: Mapping[str, Any]
) -> dict[str, Any]:
    """A message for each question the offering requires of its own that has no answer."""
    return {
        name: REQUIRED if spec.missing is None else spec.missing
        for name, (_field, spec) in asked(schema, offering).items()
        if spec.asked_of is not None and _is_blank(values.get(name))
    }


def with_fixed_end(
    schema: type[BaseModel], offering: CatalogOffering, values: Mapping[str, Any]
) -> dict[str, Any]:
    """The last day follows from the first when the offering does not ask for it."""
    derived = dict(values)
    if "end" in schema.model_fields and "end" not in asked(schema, offering):
        derived.pop("end", None)
        start = read_date(values.get("start"))
        if start:
            derived["end"] = fixed_end(offering, start)
    return derived


def read_request(
    schema: type[BaseModel], offering: CatalogOffering | None, values: Mapping[str, Any]
) -> tuple[Any, dict[str, Any]]:
    """The request the offering's questions make of the values (a form's or a JSON body's),
    or None and a message for every field in error at once: a wrong value, and a missing
    answer the offering requires."""
    values = answers_asked(schema, offering, values)
    if offering is not None:
        values = with_fixed_end(schema, offering, values)
    request, errors = None, {}
    try:
        request = schema.model_validate(values)
    except ValidationError as error:
        errors = messages(schema, error)
    if offering is not None:
        # A field the offering does not ask (a derived last day) is no one's to correct.
        fields = asked(schema, offering)
        errors = missing_answers(schema, offering, values) | {
            name: message for name, message in errors.items() if name in fields
        }
        errors = {name: errors[name] for name in fields if name in errors}  # the form's order
    return (None if errors else request), errors


def as_asked(offering: CatalogOffering, request: Any) -> Any:
    """The request less the answers the offering does not ask for, its last day derived
    when the offering's length is fixed: what is checked and kept, whoever built it."""
    schema = type(request)
    fields = asked(schema, offering)
    update: dict[str, Any] = {name: None for name in schema.model_fields if name not in fields}
    if "end" in update:
        update["end"] = fixed_end(offering, request.start)
    return request.model_copy(update=update)


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


# --- showing a booking's answers -------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    """A booking's answer to one of its offering's own questions, as staff and the union
    read it back."""

    label: Any
    text: str

    @property
    def line(self) -> str:
        """One line of a plain-text email: "Start time : 9 h 30", "Locked room? Yes"."""
        label = str(self.label)
        return f"{label} {self.text}" if label.endswith("?") else f"{with_colon(label)} {self.text}"


# Where an answer is kept on the booking, when not under its own name.
STORED_AS = {"participants": "audience"}


def answers(booking: Any, people: bool = True) -> list[Answer]:
    """What the booking's offering asked of its own (booking.schema.Trait), answered: the
    start time, the audience or participants (unless `people` is false), walls and storage,
    the site. Bookings made before a question existed show what they have."""
    offering = booking.offering
    found = []
    for name, (_field, spec) in form_fields(BookingRequest).items():
        if spec.asked_of is None or name == "end":
            continue
        if name in ("audience", "participants") and not (people and spec.is_asked_by(offering)):
            continue  # kept in one column: labelled as the offering asks it
        value = getattr(booking, STORED_AS.get(name, name), None)
        if value is not None:
            found.append(Answer(spec.label_for(offering), _answer_text(spec, value)))
    return found


def _answer_text(spec: Input, value: object) -> str:
    if isinstance(value, bool):
        value = "yes" if value else "no"
    if isinstance(value, dt.time):
        return clock_time(value)
    labels = {str(choice): label for choice, label in spec.choices}
    return str(labels.get(str(value), value))


def init_app(app: Flask) -> None:
    """What templates show of a request: `request_answers(booking)`, and a phone number as
    the reader's language writes it (`|phone`) and dials it (`|phone_link`)."""
    app.jinja_env.globals["request_answers"] = answers
    app.jinja_env.filters.update(phone=show_phone, phone_link=phone_link)
