"""The staff pages for blackouts: list, add, change and remove them."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, Flask, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from werkzeug.wrappers import Response
from wtforms import DateField, SelectChoice, SelectField, StringField
from wtforms.validators import InputRequired, Length

from booking import blackouts
from booking.blackouts import REASON_MAX_LENGTH, BlackoutNotFound, Target
from booking.errors import CalendarConflict, InvalidBooking
from booking.models import Blackout, Offering, Unit
from core.clock import now_utc, today_local
from core.database import get_session
from core.frame import add_staff_navigation
from core.i18n import localized
from core.staff.audit import add_action_labels

blueprint = Blueprint("blackouts", __name__, url_prefix="/staff")
DATE_MESSAGE = _l("Enter a date (YYYY-MM-DD).")


class BlackoutForm(FlaskForm):
    target = SelectField(_l("Closed"), validators=[InputRequired()])
    start = DateField(_l("First day"), validators=[InputRequired(DATE_MESSAGE)])
    end = DateField(_l("Last day"), validators=[InputRequired(DATE_MESSAGE)])
    reason = StringField(
        _l("Reason"),
        validators=[
            Length(max=REASON_MAX_LENGTH, message=_l("Keep the reason under %(max)d characters."))
        ],
    )

    def target_value(self) -> Target:
        kind, _, number = (self.target.data or "").partition("-")
        return Target(int(number), None) if kind == "offering" else _unit_target(int(number))


def _unit_target(unit_id: int) -> Target:
    unit = get_session().get(Unit, unit_id)
    return Target(unit.offering_id if unit else 0, unit_id)


def _target_choices() -> list[SelectChoice]:
    """Each offering (all its units) followed by its units one by one."""
    offerings = (
        get_session()
        .scalars(select(Offering).options(joinedload(Offering.units)).order_by(Offering.position))
        .unique()
    )
    choices = []
    for offering in offerings:
        title = localized(offering, "title")
        every_unit = _("%(title)s: every unit", title=title)
        choices.append(SelectChoice(f"offering-{offering.id}", every_unit))
        choices += [
            SelectChoice(f"unit-{unit.id}", f"{title}: {unit.name}") for unit in offering.units
        ]
    return choices


def _form(**values: object) -> BlackoutForm:
    form = BlackoutForm(**values)
    form.target.choices = _target_choices()
    return form


def _list_page(form: BlackoutForm, status: int = 200) -> tuple[str, int]:
    session = get_session()
    shown = blackouts.blackouts_from(session, today_local() - dt.timedelta(days=30))
    return render_template(
        "booking/desk/blackouts.html",
        form=form,
        blackouts=shown,
        names=_names(shown, form.target.choices),
    ), status


def _target_value(blackout: Blackout) -> str:
    """The blackout's target as the form's choice names it."""
    if blackout.unit_id:
        return f"unit-{blackout.unit_id}"
    return f"offering-{blackout.offering_id}"


def _names(shown: list[Blackout], choices: list[SelectChoice]) -> dict[int, str]:
    """What each blackout closes, in the words the form's choices use."""
    labels = {choice.value: choice.label for choice in choices}
    return {blackout.id: labels.get(_target_value(blackout), "") for blackout in shown}


@blueprint.get("/blackouts")
def list_blackouts() -> tuple[str, int]:
    return _list_page(_form(formdata=None))


@blueprint.post("/blackouts")
def add() -> Response | tuple[str, int]:
    form = _form()
    if not form.validate():
        return _list_page(form, 422)
    try:
        blackouts.add_blackout(
            get_session(),
            form.target_value(),
            form.start.data,
            form.end.data,
            form.reason.data or "",
            current_user.email,
            now_utc(),
        )
    except (InvalidBooking, CalendarConflict) as error:
        return _list_page(_with_errors(form, error), _status_of(error))
    get_session().commit()
    flash(_("Blackout added: those days can no longer be booked."))
    return redirect(url_for("blackouts.list_blackouts"), code=303)


def _with_errors(form: BlackoutForm, error: InvalidBooking | CalendarConflict) -> BlackoutForm:
    get_session().rollback()
    if isinstance(error, CalendarConflict):
        form.start.errors = [
            _("Those days are held by %(holder)s: move or cancel it first.", holder=error.holder)
        ]
        return form
    for name, message in error.errors.items():
        getattr(form, name).errors = [str(message)]
    return form


def _status_of(error: Exception) -> int:
    return 409 if isinstance(error, CalendarConflict) else 422


def _blackout_or_404(blackout_id: int) -> Blackout:
    blackout = get_session().get(Blackout, blackout_id)
    if blackout is None:
        abort(404)
    return blackout


def _edit_page(blackout: Blackout, form: BlackoutForm, status: int = 200) -> tuple[str, int]:
    return render_template("booking/desk/blackout.html", blackout=blackout, form=form), status


@blueprint.get("/blackouts/<int:blackout_id>")
def edit(blackout_id: int) -> tuple[str, int]:
    blackout = _blackout_or_404(blackout_id)
    target = _target_value(blackout)
    form = _form(
        formdata=None,
        target=target,
        start=blackout.start_date,
        end=blackout.end_date,
        reason=blackout.reason,
    )
    return _edit_page(blackout, form)


@blueprint.post("/blackouts/<int:blackout_id>")
def change(blackout_id: int) -> Response | tuple[str, int]:
    blackout = _blackout_or_404(blackout_id)
    form = _form()
    if not form.validate():
        return _edit_page(blackout, form, 422)
    try:
        blackouts.change_blackout(
            get_session(),
            blackout_id,
            form.target_value(),
            form.start.data,
            form.end.data,
            form.reason.data or "",
            current_user.email,
            now_utc(),
        )
    except (InvalidBooking, CalendarConflict) as error:
        return _edit_page(
            _blackout_or_404(blackout_id), _with_errors(form, error), _status_of(error)
        )
    get_session().commit()
    flash(_("Blackout changed."))
    return redirect(url_for("blackouts.list_blackouts"), code=303)


@blueprint.post("/blackouts/<int:blackout_id>/remove")
def remove(blackout_id: int) -> Response:
    try:
        blackouts.remove_blackout(get_session(), blackout_id, current_user.email, now_utc())
    except BlackoutNotFound:
        abort(404)
    get_session().commit()
    flash(_("Blackout removed: those days can be booked again."))
    return redirect(url_for("blackouts.list_blackouts"), code=303)


def init_app(app: Flask) -> None:
    app.register_blueprint(blueprint)
    add_staff_navigation(app, "blackouts.list_blackouts", _l("Blackouts"))
    add_action_labels(app, blackouts.ACTION_LABELS)
