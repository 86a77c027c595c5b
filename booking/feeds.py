"""Sharing the calendar: subscription feeds for calendar apps (behind a secret in the address,
since they cannot sign in), the staff page that gives their addresses and renews the secret,
and the bookings of a date range as a CSV file."""

from __future__ import annotations

from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import Form, StringField

from booking import feed_service
from booking.errors import InvalidBooking
from booking.ics import booking_event, feed_calendar
from booking.models import Booking
from booking.status import BookingStatus
from core.clock import now_utc, today_local
from core.database import get_session
from core.frame import add_staff_navigation
from core.i18n import current_language, localized
from core.staff import admin_required
from core.staff.audit import add_action_labels

calendar_blueprint = Blueprint("calendar_feeds", __name__)
blueprint = Blueprint("feeds", __name__, url_prefix="/staff")

ACTION_LABELS = {"rotated": _l("calendar addresses renewed")}


class ExportForm(Form):
    """The CSV's date range; a plain GET form (downloading changes nothing)."""

    start = StringField(_l("First day"))
    end = StringField(_l("Last day"))


def _public_url() -> str:
    return current_app.config["PUBLIC_URL"]


# --- The feeds calendar apps subscribe to -------------------------------------------------


def _summary(booking: Booking) -> str:
    values = {
        "organization": booking.organization,
        "offering": localized(booking.offering, "title"),
        "unit": booking.unit.name,
    }
    if booking.status == BookingStatus.REQUESTED:
        return _("%(organization)s · %(offering)s, %(unit)s (request)", **values)
    return _("%(organization)s · %(offering)s, %(unit)s", **values)


def _feed(name: str, offering_id: int | None) -> Response:
    session, now = get_session(), now_utc()
    bookings = feed_service.bookings_in_feed(session, today_local(), offering_id)
    link = feed_service.staff_booking_url
    events = [
        booking_event(booking, _summary(booking), link(_public_url(), booking.reference), now)
        for booking in bookings
    ]
    response = Response(feed_calendar(name, events), mimetype="text/calendar")
    # Unions' names and contacts: no proxy or browser keeps a copy.
    response.headers["Cache-Control"] = "no-store"
    return response


def _check_token(token: str) -> None:
    # A wrong or renewed secret and an unknown offering look the same: the normal 404.
    if not feed_service.token_is_valid(get_session(), token):
        abort(404)


@calendar_blueprint.get("/calendar/<token>/all.ics")
def everything(token: str) -> Response:
    _check_token(token)
    return _feed(_("Ambulante: every booking"), None)


@calendar_blueprint.get("/calendar/<token>/<slug>.ics")
def offering(token: str, slug: str) -> Response:
    _check_token(token)
    found = feed_service.offering_for_feed(get_session(), slug)
    if found is None:
        abort(404)
    name = _("Ambulante: %(offering)s", offering=localized(found, "title"))
    return _feed(name, found.id)


# --- The staff page -----------------------------------------------------------------------


def _feeds_page(form: ExportForm, status: int = 200) -> tuple[str, int]:
    session = get_session()
    token = feed_service.feed_token(session)
    offerings = feed_service.all_offerings(session)
    return render_template(
        "booking/desk/feeds.html",
        all_url=feed_service.feed_url(_public_url(), token),
        offering_urls=[
            (offering, feed_service.feed_url(_public_url(), token, offering.slug))
            for offering in offerings
        ],
        export_form=form,
    ), status


def _this_year_form() -> ExportForm:
    first, last = feed_service.export_range(None, None, today_local())
    return ExportForm(data={"start": first.isoformat(), "end": last.isoformat()})


@blueprint.get("/feeds")
def feeds_page() -> tuple[str, int]:
    return _feeds_page(_this_year_form())


@blueprint.post("/feeds/rotate")
@admin_required
def rotate() -> Response:
    session = get_session()
    feed_service.rotate_token(session, current_user.email, now_utc())
    session.commit()
    flash(
        _(
            "The calendar addresses are renewed: the old ones no longer work. "
            "Subscribe again with the new ones."
        )
    )
    return redirect(url_for("feeds.feeds_page"), code=303)


@blueprint.get("/bookings.csv")
def bookings_csv() -> Response | tuple[str, int]:
    form = ExportForm(request.args)
    try:
        first, last = feed_service.export_range(form.start.data, form.end.data, today_local())
    except InvalidBooking as error:
        for name, message in error.errors.items():
            getattr(form, name).errors = [str(message)]
        return _feeds_page(form, 400)
    bookings = feed_service.bookings_overlapping(get_session(), first, last)
    filename = f"ambulante-bookings-{first.isoformat()}-{last.isoformat()}.csv"
    return Response(
        feed_service.bookings_csv(bookings, current_language()),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def init_app(app: Flask) -> None:
    app.register_blueprint(calendar_blueprint)
    app.register_blueprint(blueprint)
    add_staff_navigation(app, "feeds.feeds_page", _l("Calendar feeds"))
    add_action_labels(app, ACTION_LABELS)
