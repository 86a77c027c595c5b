"""The union's private booking page, behind the link only the union has: see, cancel, add
to a calendar."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from booking import service
from booking.errors import BookingNotFound, StatusChangeRefused
from booking.ics import booking_calendar
from booking.models import Booking
from booking.notify import manage_url
from booking.routes import blueprint, mail_settings
from booking.submit import withdraw_request
from core.clock import now_utc
from core.database import get_session
from core.i18n import localized

PRIVATE_ENDPOINTS = (
    "booking.manage",
    "booking.cancel",
    "booking.confirm_cancel",
    "booking.calendar_file",
    "booking.waitlist_link",  # its redirect carries the union's email
)


@blueprint.after_request
def _private_pages_are_never_cached(response: Response) -> Response:
    """Everything behind a private link shows a union's contact details."""
    if request.endpoint in PRIVATE_ENDPOINTS:
        response.headers["Cache-Control"] = "no-store"
    return response


@blueprint.get("/bookings/<token>")
def manage(token: str) -> str:
    booking = _booking_or_404(token)
    return render_template("booking/manage.html", booking=booking, token=token)


@blueprint.get("/bookings/<token>/cancel")
def cancel(token: str) -> str:
    booking = _booking_or_404(token)
    return render_template("booking/cancel.html", booking=booking, token=token)


@blueprint.post("/bookings/<token>/cancel")
def confirm_cancel(token: str) -> Response:
    _booking_or_404(token)
    try:
        withdraw_request(get_session(), mail_settings(), token, now_utc())
    except StatusChangeRefused:
        get_session().rollback()
        flash(_("This request can no longer be cancelled."))
        return redirect(url_for("booking.manage", token=token), code=303)
    flash(_("Your request is cancelled and its dates are free again."))
    return redirect(url_for("booking.manage", token=token), code=303)


@blueprint.get("/bookings/<token>/calendar.ics")
def calendar_file(token: str) -> Response:
    booking = _booking_or_404(token)
    link = manage_url(mail_settings().public_url, token)
    content = booking_calendar(booking, localized(booking.offering, "title"), link, now_utc())
    return Response(
        content,
        mimetype="text/calendar",
        headers={"Content-Disposition": f'attachment; filename="{booking.reference}.ics"'},
    )


def _booking_or_404(token: str) -> Booking:
    try:
        return service.booking_by_token(get_session(), token)
    except BookingNotFound:
        abort(404)
