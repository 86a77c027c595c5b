"""The administrators' offering settings in the staff area: every offering with its units and
rules, one offering's settings form, and its units added, renamed, retired or restored.
Routes parse a form, call booking.offering_admin, and redirect or show what is wrong."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import BooleanField, IntegerField, StringField, TextAreaField
from wtforms.validators import InputRequired

from booking import offering_admin
from booking.models import Offering, Unit
from booking.offering_admin import (
    DAY_LIMITS,
    DESCRIPTION_MAX_LENGTH,
    TITLE_MAX_LENGTH,
    UNIT_NAME_MAX_LENGTH,
    InvalidSettings,
    OfferingNotFound,
    OfferingSettings,
    UnitNotFound,
)
from core.clock import now_utc, today_local
from core.database import get_session
from core.forms import RuleCheckedForm
from core.frame import add_staff_navigation
from core.staff import admin_required, audit
from core.staff.audit import add_action_labels

blueprint = Blueprint("offering_settings", __name__, url_prefix="/staff")

WHOLE_DAYS = _l("Enter a whole number of days.")


def _days(label: Any, name: str) -> IntegerField:
    low, high = DAY_LIMITS[name]
    return IntegerField(
        label,
        validators=[InputRequired(WHOLE_DAYS)],
        invalid_value_message=WHOLE_DAYS,
        render_kw={"min": low, "max": high},
    )


class SettingsForm(RuleCheckedForm):
    title_fr = StringField(_l("Title in French"), render_kw={"maxlength": TITLE_MAX_LENGTH})
    title_en = StringField(_l("Title in English"), render_kw={"maxlength": TITLE_MAX_LENGTH})
    description_fr = TextAreaField(
        _l("Description in French"), render_kw={"maxlength": DESCRIPTION_MAX_LENGTH, "rows": 5}
    )
    description_en = TextAreaField(
        _l("Description in English"), render_kw={"maxlength": DESCRIPTION_MAX_LENGTH, "rows": 5}
    )
    buffer_before_days = _days(_l("Transit and set-up days before"), "buffer_before_days")
    buffer_after_days = _days(_l("Transit and set-up days after"), "buffer_after_days")
    min_days = _days(_l("Shortest booking (days)"), "min_days")
    max_days = _days(_l("Longest booking (days)"), "max_days")
    lead_days = _days(_l("Lead time: requests at least this many days ahead"), "lead_days")
    reminder_days = _days(_l("Reminder: this many days before the start"), "reminder_days")
    closed_on_holidays = BooleanField(_l("Closed on Québec's statutory holidays"))
    active = BooleanField(_l("Offered on the public pages"))

    def validate(self, extra_validators: Any = None) -> bool:
        """The fields that could be read are checked by the offering's rules
        (offering_admin.settings_errors), so every field says what is wrong at once."""
        read = super().validate(extra_validators)
        values = {name: self[name].data for name in OfferingSettings.__dataclass_fields__}
        self.attach(offering_admin.settings_errors(values))
        return read and not self.errors

    def settings(self) -> OfferingSettings:
        return OfferingSettings(
            **{name: self[name].data or "" for name in ("title_fr", "title_en")},
            **{name: self[name].data or "" for name in ("description_fr", "description_en")},
            **{name: self[name].data for name in DAY_LIMITS},
            active=bool(self.active.data),
            closed_on_holidays=bool(self.closed_on_holidays.data),
        )


class UnitNameForm(FlaskForm):
    """A unit's name; several on one page, each with a prefix of its own."""

    class Meta:
        csrf = False  # a prefix would rename the token's field; CSRFProtect checks every POST

    name = StringField(
        _l("Name"),
        validators=[InputRequired(_l("Give the unit a name."))],
        render_kw={"maxlength": UNIT_NAME_MAX_LENGTH},
    )


def _rename_form(unit: Unit) -> UnitNameForm:
    # A prefix per unit: each row's field has an id of its own on the page.
    return UnitNameForm(formdata=None, name=unit.name, prefix=f"unit-{unit.id}")


def _offering_or_404(slug: str) -> Offering:
    try:
        return offering_admin.offering_by_slug(get_session(), slug)
    except OfferingNotFound:
        abort(404)


def _settings_page(
    offering: Offering,
    status: int = 200,
    form: SettingsForm | None = None,
    new_unit: UnitNameForm | None = None,
    renamed: UnitNameForm | None = None,
    renamed_id: int | None = None,
    unit_problem: str | None = None,
) -> tuple[str, int]:
    """The settings page, with what was typed and what is wrong with it after a refusal."""
    session = get_session()
    rename_forms = {
        unit.id: renamed if unit.id == renamed_id and renamed else _rename_form(unit)
        for unit in offering.units
    }
    for unit in offering.units:  # each row's field says which unit it names
        rename_forms[unit.id].name.label.text = _("Name of %(unit)s", unit=unit.name)
    page = render_template(
        "booking/desk/offering_settings.html",
        offering=offering,
        form=form or SettingsForm(formdata=None, obj=offering),
        new_unit=new_unit or UnitNameForm(formdata=None, prefix="new-unit"),
        rename_forms=rename_forms,
        unit_problem=unit_problem,
        breaking=offering_admin.holds_breaking_rules_of(session, offering.id, today_local()),
        entries=audit.events_of(session, offering_admin.SUBJECT, offering.slug),
    )
    return page, status


def _saved(offering: Offering, notice: str) -> Response:
    """Back to the settings page, saying what changed and how many holds now break the
    rules (they stand; the dashboard lists them)."""
    session = get_session()
    session.commit()
    flash(notice)
    breaking = offering_admin.holds_breaking_rules_of(session, offering.id, today_local())
    if breaking:
        flash(
            _(
                "Holds that no longer fit this offering's rules: %(count)s. They stand; "
                "the dashboard lists them.",
                count=breaking,
            )
        )
    return redirect(url_for("offering_settings.settings_page", slug=offering.slug), code=303)


@blueprint.get("/offerings")
@admin_required
def offerings_page() -> str:
    return render_template(
        "booking/desk/offerings.html", offerings=offering_admin.offerings(get_session())
    )


@blueprint.get("/offerings/<slug>")
@admin_required
def settings_page(slug: str) -> tuple[str, int]:
    return _settings_page(_offering_or_404(slug))


@blueprint.post("/offerings/<slug>")
@admin_required
def save_settings(slug: str) -> Response | tuple[str, int]:
    offering = _offering_or_404(slug)
    form = SettingsForm()
    if not form.validate():
        return _settings_page(offering, 422, form=form)
    try:
        offering = offering_admin.save_settings(
            get_session(), slug, form.settings(), current_user.email, now_utc()
        )
    except OfferingNotFound:
        abort(404)
    except InvalidSettings as error:
        form.attach(error.errors)
        return _settings_page(_offering_or_404(slug), 422, form=form)
    return _saved(offering, _("The settings are saved."))


@blueprint.post("/offerings/<slug>/units")
@admin_required
def add_unit(slug: str) -> Response | tuple[str, int]:
    offering = _offering_or_404(slug)
    form = UnitNameForm(prefix="new-unit")
    try:
        if not form.validate():
            return _settings_page(offering, 422, new_unit=form)
        unit = offering_admin.add_unit(
            get_session(), slug, form.name.data, current_user.email, now_utc()
        )
    except OfferingNotFound:
        abort(404)
    except InvalidSettings as error:
        form.name.errors = [str(message) for message in error.errors.values()]
        return _settings_page(_offering_or_404(slug), 422, new_unit=form)
    return _saved(offering, _("%(name)s is added and in service.", name=unit.name))


def _unit_or_404(offering: Offering, unit_id: int) -> Unit:
    unit = next((unit for unit in offering.units if unit.id == unit_id), None)
    if unit is None:
        abort(404)
    return unit


@blueprint.post("/offerings/<slug>/units/<int:unit_id>/rename")
@admin_required
def rename_unit(slug: str, unit_id: int) -> Response | tuple[str, int]:
    offering = _offering_or_404(slug)
    _unit_or_404(offering, unit_id)
    form = UnitNameForm(prefix=f"unit-{unit_id}")
    try:
        if not form.validate():
            return _settings_page(offering, 422, renamed=form, renamed_id=unit_id)
        unit = offering_admin.rename_unit(
            get_session(), slug, unit_id, form.name.data, current_user.email, now_utc()
        )
    except (OfferingNotFound, UnitNotFound):
        abort(404)
    except InvalidSettings as error:
        form.name.errors = [str(message) for message in error.errors.values()]
        offering = _offering_or_404(slug)
        return _settings_page(offering, 422, renamed=form, renamed_id=unit_id)
    return _saved(offering, _("The unit is now called %(name)s.", name=unit.name))


def _set_in_service(slug: str, unit_id: int, active: bool) -> Response | tuple[str, int]:
    offering = _offering_or_404(slug)
    _unit_or_404(offering, unit_id)  # CSRFProtect has checked the form's only field
    change = offering_admin.restore_unit if active else offering_admin.retire_unit
    try:
        unit = change(get_session(), slug, unit_id, current_user.email, now_utc())
    except (OfferingNotFound, UnitNotFound):
        abort(404)
    except InvalidSettings as error:
        problem = " ".join(str(message) for message in error.errors.values())
        return _settings_page(_offering_or_404(slug), 409, unit_problem=problem)
    if active:
        return _saved(offering, _("%(name)s is back in service.", name=unit.name))
    return _saved(
        offering,
        _(
            "%(name)s is retired: it takes no new requests; its bookings and history stay.",
            name=unit.name,
        ),
    )


@blueprint.post("/offerings/<slug>/units/<int:unit_id>/retire")
@admin_required
def retire_unit(slug: str, unit_id: int) -> Response | tuple[str, int]:
    return _set_in_service(slug, unit_id, active=False)


@blueprint.post("/offerings/<slug>/units/<int:unit_id>/restore")
@admin_required
def restore_unit(slug: str, unit_id: int) -> Response | tuple[str, int]:
    return _set_in_service(slug, unit_id, active=True)


def init_app(app: Flask) -> None:
    app.register_blueprint(blueprint)
    add_staff_navigation(app, "offering_settings.offerings_page", _l("Offerings"), admin_only=True)
    add_action_labels(app, offering_admin.ACTION_LABELS)
