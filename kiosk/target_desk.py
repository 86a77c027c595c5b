"""The staff's page of QR targets: where codes send visitors, added and changed by staff."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from flask import Blueprint, Flask, abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from core.clock import now_utc
from core.database import get_session
from core.frame import add_staff_navigation
from core.i18n import current_language
from core.staff import admin_required, audit
from core.staff.audit import add_action_labels
from kiosk.links import Destinations, address_of
from kiosk.models import BUILT_IN_TARGETS, ScanTarget, ScreenTarget
from kiosk.target_forms import NewTargetForm, TargetForm
from kiosk.targets import (
    ACTION_LABELS,
    SUBJECT,
    InvalidTarget,
    TargetNotFound,
    add_target,
    all_targets,
    destinations_of,
    fields_of,
    target_by_id,
    update_target,
)

blueprint = Blueprint("targets", __name__, url_prefix="/staff")


@dataclass(frozen=True)
class TargetRow:
    """A target as staff read it: where its codes lead now, and how many screens chose it."""

    target: ScanTarget
    address: str  # "" when it leads nowhere: left out of every screen and poster
    setting: str | None  # the setting a built-in target's address comes from, when it does
    screens: int


def setting_of(target: ScanTarget) -> str | None:
    """The setting a built-in target's address comes from (None for a page staff added)."""
    return f"AMBULANTE_{target.key.upper()}_URL" if target.key in BUILT_IN_TARGETS else None


def screens_per_target(session: Session) -> dict[int, int]:
    """How many screens chose each target's code."""
    rows = session.execute(
        select(ScreenTarget.target_id, func.count()).group_by(ScreenTarget.target_id)
    )
    return {target_id: count for target_id, count in rows}


def _row(target: ScanTarget, destinations: Destinations, screens: dict[int, int]) -> TargetRow:
    return TargetRow(
        target, address_of(target, destinations), setting_of(target), screens.get(target.id, 0)
    )


@blueprint.get("/targets")
def list_targets() -> str:
    session = get_session()
    destinations = destinations_of(current_app.config)
    screens = screens_per_target(session)
    return render_template(
        "kiosk/targets/targets.html",
        rows=[_row(target, destinations, screens) for target in all_targets(session)],
    )


def _target_or_404(target_id: int) -> ScanTarget:
    try:
        return target_by_id(get_session(), target_id)
    except TargetNotFound:
        abort(404)


def _new_page(form: NewTargetForm, status: int = 200) -> tuple[str, int]:
    return render_template("kiosk/targets/new.html", form=form), status


def _target_page(target: ScanTarget, form: TargetForm, status: int = 200) -> tuple[str, int]:
    session = get_session()
    destinations = destinations_of(current_app.config)
    return render_template(
        "kiosk/targets/target.html",
        row=_row(target, destinations, screens_per_target(session)),
        setting_url=destinations.built_in_urls.get(target.key, ""),
        form=form,
        entries=audit.events_of(session, SUBJECT, target.key),
    ), status


def _to_list(target_id: int) -> Response:
    return redirect(url_for("targets.list_targets") + f"#target-{target_id}", code=303)


@blueprint.get("/targets/new")
@admin_required
def new_target() -> tuple[str, int]:
    return _new_page(NewTargetForm(formdata=None))


@blueprint.post("/targets/new")
@admin_required
def create() -> Response | tuple[str, int]:
    form = NewTargetForm()
    if not form.validate():
        return _new_page(form, 422)
    session = get_session()
    try:
        target = add_target(
            session, form.name.data or "", form.fields(), current_user.email, now_utc()
        )
    except InvalidTarget as error:
        session.rollback()
        form.attach(error.errors)
        return _new_page(form, 422)
    session.commit()
    flash(
        _(
            "QR target %(name)s added: tick it on the screens that should show its code.",
            name=target.label(current_language()),
        )
    )
    return _to_list(target.id)


@blueprint.get("/targets/<int:target_id>")
def target_page(target_id: int) -> tuple[str, int]:
    target = _target_or_404(target_id)
    return _target_page(target, TargetForm(formdata=None, data=asdict(fields_of(target))))


@blueprint.post("/targets/<int:target_id>")
@admin_required
def save(target_id: int) -> Response | tuple[str, int]:
    target = _target_or_404(target_id)
    form = TargetForm()
    if not form.validate():
        return _target_page(target, form, 422)
    session = get_session()
    try:
        target = update_target(session, target_id, form.fields(), current_user.email, now_utc())
    except InvalidTarget as error:
        session.rollback()
        form.attach(error.errors)
        return _target_page(_target_or_404(target_id), form, 422)
    session.commit()
    flash(
        _(
            "QR target %(name)s saved: screens pick up the change at their next refresh.",
            name=target.label(current_language()),
        )
    )
    return _to_list(target_id)


def init_app(app: Flask) -> None:
    app.register_blueprint(blueprint)
    add_staff_navigation(app, "targets.list_targets", _l("QR targets"))
    add_action_labels(app, ACTION_LABELS)
