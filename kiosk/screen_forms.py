"""The staff's screen form: a screen's name, the venue it serves, its caption languages in
order, how long a slide stays, which portraits it plays and which codes it shows."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session
from wtforms import (
    BooleanField,
    IntegerField,
    RadioField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
)
from wtforms.validators import InputRequired

from booking.models import Booking, Offering, OfferingKind
from booking.status import HOLDING_STATUSES
from core.forms import RuleCheckedForm
from core.i18n import format_day
from core.web import LARGEST_ID
from kiosk.models import DEFAULT_SECONDS_PER_SLIDE, SECONDS_PER_SLIDE
from kiosk.screens import NAME_MAX_LENGTH, ScreenSettings
from media.models import LANGUAGES

LANGUAGE_LABELS = {"fr": _l("French"), "es": _l("Spanish"), "en": _l("English")}
LANGUAGE_FIELDS = ("language_1", "language_2", "language_3")
NO_BOOKING = ""
ALL_PORTRAITS, CHOSEN_PORTRAITS = "all", "chosen"
WHOLE_SECONDS = _l("Enter a whole number of seconds.")
# What the screen rules (kiosk.screens) call a field, when the form names it otherwise.
FIELD_OF_RULE = {"languages": "language_1"}


def _is_id(value: str) -> bool:
    """A number a table's row could have (a larger one would not fit the database's integer)."""
    return value.isascii() and value.isdigit() and int(value) <= LARGEST_ID


def _language(label: Any, optional: bool) -> SelectField:
    choices = [SelectChoice(code, LANGUAGE_LABELS[code]) for code in LANGUAGES]
    if optional:
        choices.insert(0, SelectChoice("", _l("No language")))
    # The rules judge an unknown language (kiosk.screens), with their own message.
    return SelectField(label, choices=choices, validate_choice=False)


class ScreenForm(RuleCheckedForm):
    name = StringField(_l("Name"), render_kw={"maxlength": NAME_MAX_LENGTH})
    booking_id = SelectField(
        _l("Booking (venue) it serves"), default=NO_BOOKING, validate_choice=False
    )
    language_1 = _language(_l("First language"), optional=False)
    language_2 = _language(_l("Second language"), optional=True)
    language_3 = _language(_l("Third language"), optional=True)
    languages_together = BooleanField(_l("Show two languages together, not in turn"))
    seconds_per_slide = IntegerField(
        _l("Seconds per slide"),
        validators=[InputRequired(WHOLE_SECONDS)],
        invalid_value_message=WHOLE_SECONDS,
        render_kw={"min": SECONDS_PER_SLIDE[0], "max": SECONDS_PER_SLIDE[1]},
    )
    portraits = RadioField(
        _l("Portraits"),
        choices=[
            SelectChoice(ALL_PORTRAITS, _l("All published portraits, in the library's order")),
            SelectChoice(CHOSEN_PORTRAITS, _l("Only the portraits ticked below")),
        ],
        default=ALL_PORTRAITS,
        validate_choice=False,
    )
    portrait_ids = SelectMultipleField(_l("Chosen portraits"), validate_choice=False)
    target_ids = SelectMultipleField(_l("QR codes on the screen"), validate_choice=False)

    def validate(self, extra_validators: Any = None) -> bool:
        """What the form itself can tell: a booking from the list, a known way of choosing
        portraits, portraits named by number. The screen rules judge the rest."""
        read = super().validate(extra_validators)
        if self.booking_id.data not in {str(choice.value) for choice in self.booking_id.choices}:
            self.booking_id.errors = [_("Choose a booking from the list, or none.")]
        if self.portraits.data not in (ALL_PORTRAITS, CHOSEN_PORTRAITS):
            self.portraits.errors = [_("Choose all published portraits or some of them.")]
        if not all(_is_id(value) for value in self.chosen_values()):
            self.portrait_ids.errors = [_("Choose portraits from the library's list.")]
        if not all(_is_id(str(value)) for value in self.target_ids.data or []):
            self.target_ids.errors = [_("Choose QR codes from the list.")]
        return read and not self.errors

    def attach(self, errors: Mapping[str, Any]) -> None:
        super().attach({FIELD_OF_RULE.get(name, name): message for name, message in errors.items()})

    def chosen_values(self) -> list[str]:
        return [str(value) for value in self.portrait_ids.data or []]

    def settings(self) -> ScreenSettings:
        """What was chosen, once validate() has passed."""
        languages = tuple(code for code in (self[name].data for name in LANGUAGE_FIELDS) if code)
        chosen = None
        if self.portraits.data == CHOSEN_PORTRAITS:
            # Each once, in the order ticked: a crafted form may name one twice.
            chosen = tuple(dict.fromkeys(int(value) for value in self.chosen_values()))
        booking = self.booking_id.data
        return ScreenSettings(
            name=self.name.data or "",
            languages=languages,
            languages_together=bool(self.languages_together.data),
            seconds_per_slide=self.seconds_per_slide.data,
            booking_id=int(booking) if booking else None,
            portrait_ids=chosen,
            target_ids=tuple(dict.fromkeys(int(value) for value in self.target_ids.data or [])),
        )


def form_data(settings: ScreenSettings | None, every_target: Sequence[int]) -> dict[str, Any]:
    """The form's fields as a screen's settings fill them (a new screen's defaults for None:
    every target's code ticked)."""
    if settings is None:
        settings = ScreenSettings(
            name="", seconds_per_slide=DEFAULT_SECONDS_PER_SLIDE, target_ids=tuple(every_target)
        )
    languages = [*settings.languages, "", "", ""]
    return {
        "name": settings.name,
        "booking_id": str(settings.booking_id) if settings.booking_id else NO_BOOKING,
        **{name: languages[index] for index, name in enumerate(LANGUAGE_FIELDS)},
        "languages_together": settings.languages_together,
        "seconds_per_slide": settings.seconds_per_slide,
        "portraits": ALL_PORTRAITS if settings.portrait_ids is None else CHOSEN_PORTRAITS,
        "portrait_ids": [str(value) for value in settings.portrait_ids or ()],
        "target_ids": [str(value) for value in settings.target_ids or ()],
    }


def venues(session: Session, today: dt.date, also: int | None = None) -> list[Booking]:
    """The exhibition bookings a screen may serve: requested or confirmed, not over yet,
    soonest first; and the one the screen serves now, whatever became of it."""
    query = (
        select(Booking)
        .join(Offering, Booking.offering_id == Offering.id)
        .where(
            Offering.kind == OfferingKind.EXHIBITION,
            Booking.status.in_(HOLDING_STATUSES),
            Booking.end_date >= today,
        )
        .order_by(Booking.start_date, Booking.id)
    )
    bookings = list(session.scalars(query))
    if also is not None and all(booking.id != also for booking in bookings):
        current = session.get(Booking, also)
        if current is not None:
            bookings.insert(0, current)
    return bookings


def booking_label(booking: Booking) -> str:
    return _(
        "%(reference)s · %(organization)s, %(venue)s · %(start)s to %(end)s",
        reference=booking.reference or f"#{booking.id}",
        organization=booking.organization,
        venue=booking.venue,
        start=format_day(booking.start_date, "medium"),
        end=format_day(booking.end_date, "medium"),
    )


def booking_choices(bookings: Sequence[Booking]) -> list[SelectChoice]:
    return [SelectChoice(NO_BOOKING, _("None: the screen serves no venue"))] + [
        SelectChoice(str(booking.id), booking_label(booking)) for booking in bookings
    ]
