"""The staff desk's forms: a decision with its message, a move, an internal note."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectChoice, SelectField, TextAreaField
from wtforms.validators import InputRequired, Length

from booking.decisions import MESSAGE_MAX_LENGTH, NOTE_MAX_LENGTH
from booking.status import BookingStatus

DECISIONS = (
    BookingStatus.CONFIRMED,
    BookingStatus.DECLINED,
    BookingStatus.CANCELLED,
    BookingStatus.COMPLETED,
)


class DecisionForm(FlaskForm):
    decision = SelectField(
        _l("Decision"),
        choices=[SelectChoice(str(status), str(status)) for status in DECISIONS],
        validators=[InputRequired()],
    )
    message = TextAreaField(
        _l("Message to the union (optional)"),
        validators=[
            Length(
                max=MESSAGE_MAX_LENGTH,
                message=_l("Keep the message under %(max)d characters."),
            )
        ],
    )


class MoveForm(FlaskForm):
    start = DateField(_l("First day"), validators=[InputRequired(_l("Enter a date (YYYY-MM-DD)."))])
    end = DateField(_l("Last day"), validators=[InputRequired(_l("Enter a date (YYYY-MM-DD)."))])
    unit = SelectField(_l("Unit"), coerce=int, validate_choice=False)


class NoteForm(FlaskForm):
    text = TextAreaField(
        _l("Internal note (the union never sees it)"),
        validators=[
            InputRequired(_l("Write the note first.")),
            Length(max=NOTE_MAX_LENGTH, message=_l("Keep the note under %(max)d characters.")),
        ],
    )
