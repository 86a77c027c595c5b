"""The staff's screens page: each screen, whether it is on and what it shows; add, change
and delete screens. Routes parse the screen form, call kiosk.screens, and redirect or show
what is wrong."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from werkzeug.wrappers import Response

from core.clock import now_utc, today_local
from core.database import get_session
from core.frame import add_staff_navigation
from core.staff import admin_required, audit
from core.staff.audit import add_action_labels
from kiosk.bundle import screen_bundle
from kiosk.heartbeat import ScreenStatus, statuses
from kiosk.links import address_of
from kiosk.models import SECONDS_PER_SLIDE, Screen
from kiosk.screen_forms import LANGUAGE_LABELS, ScreenForm, booking_choices, form_data, venues
from kiosk.screens import (
    ACTION_LABELS,
    SUBJECT,
    InvalidScreen,
    ScreenNotFound,
    all_screens,
    create_screen,
    delete_screen,
    screen_by_id,
    settings_of,
    update_screen,
)
from kiosk.targets import all_targets, destinations_of
from media.models import Portrait
from media.portraits import staff_portraits

blueprint = Blueprint("screens", __name__, url_prefix="/staff")


@dataclass(frozen=True)
class ScreenRow:
    """A screen as the list shows it: what it last said it was showing, and what it should
    be running now."""

    screen: Screen
    status: ScreenStatus
    portrait: Portrait | None  # the one on screen at the last report, if still in the library
    latest_version: str

    @property
    def up_to_date(self) -> bool:
        return self.status.bundle_version == self.latest_version


def _rows(now: dt.datetime, today: dt.date) -> list[ScreenRow]:
    session = get_session()
    screens = all_screens(session)
    found = statuses(session, screens, now, current_app.config["KIOSK_HEARTBEAT_SECONDS"])
    slugs = {status.portrait_slug for status in found.values() if status.portrait_slug}
    on_screen = {
        portrait.slug: portrait
        for portrait in session.scalars(
            select(Portrait)
            .options(selectinload(Portrait.renditions))
            .where(Portrait.slug.in_(slugs))
        )
    }
    # The version each screen would fetch now: the same computation as its bundle.json.
    latest = {
        screen.id: screen_bundle(session, screen, today, now)["version"] for screen in screens
    }
    return [
        ScreenRow(
            screen,
            found[screen.id],
            on_screen.get(found[screen.id].portrait_slug or ""),
            latest[screen.id],
        )
        for screen in screens
    ]


@blueprint.get("/screens")
def list_screens() -> str:
    return render_template(
        "kiosk/desk/screens.html",
        rows=_rows(now_utc(), today_local()),
        language_names=LANGUAGE_LABELS,
    )


def _screen_or_404(screen_id: int) -> Screen:
    try:
        return screen_by_id(get_session(), screen_id)
    except ScreenNotFound:
        abort(404)


def _form(screen: Screen | None, submitted: bool = True) -> ScreenForm:
    """The form as posted, or (submitted=False) filled from the screen's settings."""
    if submitted:
        form = ScreenForm()
    else:
        every_target = [target.id for target in all_targets(get_session())]
        settings = settings_of(screen) if screen is not None else None
        form = ScreenForm(formdata=None, data=form_data(settings, every_target))
    serving = screen.booking_id if screen is not None else None
    form.booking_id.choices = booking_choices(venues(get_session(), today_local(), serving))
    return form


def _form_page(screen: Screen | None, form: ScreenForm, status: int = 200) -> tuple[str, int]:
    session = get_session()
    return render_template(
        "kiosk/desk/screen.html",
        screen=screen,
        form=form,
        portraits=staff_portraits(session),
        chosen=set(form.chosen_values()),
        targets=all_targets(session),
        ticked_targets={str(value) for value in form.target_ids.data or []},
        destinations=destinations_of(current_app.config),
        target_address=address_of,
        seconds_limits=SECONDS_PER_SLIDE,
        today=today_local(),
        entries=audit.events_of(session, SUBJECT, screen.slug) if screen is not None else [],
    ), status


def _to_list(screen_id: int | None = None) -> Response:
    anchor = f"#screen-{screen_id}" if screen_id is not None else ""
    return redirect(url_for("screens.list_screens") + anchor, code=303)


@blueprint.get("/screens/new")
def new_screen() -> tuple[str, int]:
    return _form_page(None, _form(None, submitted=False))


@blueprint.post("/screens/new")
def create() -> Response | tuple[str, int]:
    form = _form(None)
    if not form.validate():
        return _form_page(None, form, 422)
    session = get_session()
    try:
        screen = create_screen(session, form.settings(), current_user.email, now_utc())
    except InvalidScreen as error:
        session.rollback()
        form.attach(error.errors)
        return _form_page(None, form, 422)
    session.commit()
    address = url_for("kiosk.player", slug=screen.slug)
    flash(_("Screen %(name)s added: it plays at %(address)s.", name=screen.name, address=address))
    return _to_list(screen.id)


@blueprint.get("/screens/<int:screen_id>")
def edit(screen_id: int) -> tuple[str, int]:
    screen = _screen_or_404(screen_id)
    return _form_page(screen, _form(screen, submitted=False))


@blueprint.post("/screens/<int:screen_id>")
def save(screen_id: int) -> Response | tuple[str, int]:
    screen = _screen_or_404(screen_id)
    form = _form(screen)
    if not form.validate():
        return _form_page(screen, form, 422)
    session = get_session()
    try:
        screen = update_screen(session, screen_id, form.settings(), current_user.email, now_utc())
    except ScreenNotFound:
        session.rollback()
        abort(404)
    except InvalidScreen as error:
        session.rollback()
        form.attach(error.errors)
        return _form_page(_screen_or_404(screen_id), form, 422)
    session.commit()
    flash(_("Screen %(name)s saved: it picks up the change at its next refresh.", name=screen.name))
    return _to_list(screen_id)


@blueprint.get("/screens/<int:screen_id>/delete")
@admin_required
def confirm_delete(screen_id: int) -> tuple[str, int]:
    return _delete_page(_screen_or_404(screen_id))


def _delete_page(screen: Screen, problem: str | None = None, status: int = 200) -> tuple[str, int]:
    return render_template("kiosk/desk/delete.html", screen=screen, problem=problem), status


@blueprint.post("/screens/<int:screen_id>/delete")
@admin_required
def delete(screen_id: int) -> Response | tuple[str, int]:
    session = get_session()
    try:
        name = screen_by_id(session, screen_id).name
        delete_screen(session, screen_id, current_user.email, now_utc())
    except ScreenNotFound:
        session.rollback()
        abort(404)
    except InvalidScreen as error:
        session.rollback()
        problem = " ".join(str(message) for message in error.errors.values())
        return _delete_page(_screen_or_404(screen_id), problem, 409)
    session.commit()
    flash(
        _(
            "Screen %(name)s deleted: its QR codes now lead to a page with the centre's links.",
            name=name,
        )
    )
    return _to_list()


def init_app(app: Flask) -> None:
    app.register_blueprint(blueprint)
    add_staff_navigation(app, "screens.list_screens", _l("Screens"))
    add_action_labels(app, ACTION_LABELS)
