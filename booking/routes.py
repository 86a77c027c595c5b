"""The union's pages: offerings, availability calendar, request form, private booking page."""

from __future__ import annotations

import datetime as dt

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from booking import service
from booking.availability import earliest_start, next_windows
from booking.errors import (
    BookingNotFound,
    CannotCancel,
    DatesTaken,
    InvalidBooking,
    TryAgain,
    UnknownOffering,
)
from booking.forms import BookingForm
from booking.ics import booking_calendar
from booking.models import Offering
from booking.month import InvalidMonth, month_view, parse_month
from booking.submit import manage_url, submit_request, withdraw_request
from core.database import get_session
from core.i18n import current_language, localized
from core.limits import booking_limit, limiter
from core.web import RETRY_SECONDS, render_page_or_fragment, retry_later

blueprint = Blueprint("booking", __name__)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@blueprint.app_errorhandler(TryAgain)
def busy(_error: TryAgain) -> tuple[Response, int]:
    """Rare: every attempt lost a race to other requests; the form and API both say so."""
    return retry_later(503, RETRY_SECONDS)


def _offering_or_404(slug: str) -> Offering:
    try:
        return service.offering_by_slug(get_session(), slug)
    except UnknownOffering:
        abort(404)


@blueprint.get("/")
def index() -> str:
    session = get_session()
    today = service.today_in_montreal()
    offerings = service.active_offerings(session)
    windows = {
        offering.id: next_windows(session, offering, offering.min_days, today, today)
        for offering in offerings
    }
    return render_template("booking/index.html", offerings=offerings, windows=windows)


@blueprint.get("/offerings/<slug>")
def offering(slug: str) -> str:
    offering = _offering_or_404(slug)
    today = service.today_in_montreal()
    try:
        first = parse_month(request.args.get("month"), today, earliest_start(offering, today))
    except InvalidMonth:
        abort(400)
    view = month_view(get_session(), offering, first, today)
    return render_page_or_fragment(
        "booking/offering.html",
        "partials/_calendar.html",
        "calendar",
        offering=offering,
        month=view,
    )


def _form_page(offering: Offering, form: BookingForm, status: int = 200, **extra: object):  # type: ignore[no-untyped-def]
    """The request form, with what the union typed and what is wrong with it."""
    opens = earliest_start(offering, service.today_in_montreal())
    context = {"check": None, **extra}
    page = render_template(
        "booking/book.html", offering=offering, form=form, opens=opens, **context
    )
    return page, status


@blueprint.route("/book/<slug>", methods=["GET", "POST"])
@limiter.limit(booking_limit, methods=["POST"])
def book(slug: str) -> Response | tuple[str, int]:
    offering = _offering_or_404(slug)
    form = BookingForm(request.form if request.method == "POST" else request.args)
    if request.method == "GET":
        form.language.data = form.language.data or current_language()
        # Arriving from a suggested window: say at once whether its dates are still free.
        return _form_page(offering, form, check=_check(offering, form))
    if form.is_spam:
        return _form_page(offering, form, 400, refused=True)
    if not form.validate():
        return _form_page(offering, form, 422)
    try:
        submitted = submit_request(
            get_session(), form.to_request(slug), service.today_in_montreal(), _now()
        )
    except InvalidBooking as error:
        _attach_errors(form, error.errors)
        return _form_page(offering, form, 422)
    except DatesTaken as error:
        check = service.DateCheck(free=False, windows=error.next_available)
        return _form_page(offering, form, 409, check=check, taken=True)
    flash(
        _(
            "Your request is received. Your dates are held until our team decides; "
            "we sent a confirmation to %(email)s.",
            email=submitted.booking.email,
        )
    )
    return redirect(url_for("booking.manage", token=submitted.manage_token), code=303)


@blueprint.get("/book/<slug>/check")
def check_dates(slug: str) -> str:
    """The live answer under the date fields: free, or taken with the next free windows."""
    offering = _offering_or_404(slug)
    form = BookingForm(request.args, meta={"csrf": False})
    return render_template(
        "partials/_availability_answer.html", offering=offering, check=_check(offering, form)
    )


def _check(offering: Offering, form: BookingForm) -> service.DateCheck | None:
    """Nothing to say until both dates are typed and read as dates."""
    if not (form.start.raw_data and form.end.raw_data):
        return None
    if not (form.start.validate(form) and form.end.validate(form)):
        return None
    return service.check_dates(
        get_session(), offering, form.start.data, form.end.data, service.today_in_montreal()
    )


def _attach_errors(form: BookingForm, errors: dict[str, str]) -> None:
    for name, message in errors.items():
        form[name].errors = [*form[name].errors, message]


@blueprint.after_request
def _private_pages_are_never_cached(response: Response) -> Response:
    """Everything behind a private link shows a union's contact details."""
    if request.endpoint in ("booking.manage", "booking.cancel", "booking.calendar_file"):
        response.headers["Cache-Control"] = "no-store"
    return response


@blueprint.get("/bookings/<token>")
def manage(token: str) -> str:
    booking = _booking_or_404(token)
    return render_template("booking/manage.html", booking=booking, token=token)


@blueprint.route("/bookings/<token>/cancel", methods=["GET", "POST"])
def cancel(token: str) -> Response | str:
    booking = _booking_or_404(token)
    if request.method == "GET":
        return render_template("booking/cancel.html", booking=booking, token=token)
    try:
        withdraw_request(get_session(), token, _now())
    except CannotCancel:
        get_session().rollback()
        flash(_("This request can no longer be cancelled."))
        return redirect(url_for("booking.manage", token=token), code=303)
    flash(_("Your request is cancelled and its dates are free again."))
    return redirect(url_for("booking.manage", token=token), code=303)


@blueprint.get("/bookings/<token>/calendar.ics")
def calendar_file(token: str) -> Response:
    booking = _booking_or_404(token)
    content = booking_calendar(
        booking, localized(booking.offering, "title"), manage_url(token), _now()
    )
    return Response(
        content,
        mimetype="text/calendar",
        headers={"Content-Disposition": f'attachment; filename="{booking.reference}.ics"'},
    )


def _booking_or_404(token: str):  # type: ignore[no-untyped-def]
    try:
        return service.booking_by_token(get_session(), token)
    except BookingNotFound:
        abort(404)
