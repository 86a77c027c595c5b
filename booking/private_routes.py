"""The union's private booking page, behind the link only the union has: see, cancel, add
to a calendar, book again; and "Lost your link?", which sends the links again."""

from __future__ import annotations

import unicodedata
from typing import Any

from flask import (
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import StringField

from booking import lost_link as lost_links
from booking import service
from booking.errors import BookingNotFound, InvalidBooking, StatusChangeRefused
from booking.ics import booking_calendar
from booking.models import Booking
from booking.notify import manage_url
from booking.phones import show_phone
from booking.routes import blueprint, booking_rate_limit, mail_settings
from booking.submit import withdraw_request
from core.clock import now_utc
from core.database import get_session
from core.i18n import localized
from core.limits import limiter

PRIVATE_ENDPOINTS = (
    "booking.manage",
    "booking.cancel",
    "booking.confirm_cancel",
    "booking.calendar_file",
    "booking.waitlist_link",  # its redirect carries the union's email
    # The address typed, shown back (or in the notice after sending).
    "booking.lost_link",
    "booking.send_lost_link",
    "booking.lost_link_sent",
)
# "Book again" fills in who the union is on the request form, through its address: such a
# form page is as private as the booking's own (booking.book reads them from the query).
WHO_FIELDS = ("organization", "contact_name", "email", "phone", "language")
SHOWN_BACK_LENGTH = 320  # an address typed longer than any is shown back cut


@blueprint.after_request
def _private_pages_are_never_cached(response: Response) -> Response:
    """Everything behind a private link shows a union's contact details."""
    prefilled = request.endpoint == "booking.book" and any(
        name in request.args for name in WHO_FIELDS
    )
    if request.endpoint in PRIVATE_ENDPOINTS or prefilled:
        response.headers["Cache-Control"] = "no-store"
    return response


@blueprint.get("/bookings/<token>")
def manage(token: str) -> str:
    booking = _booking_or_404(token)
    return render_template(
        "booking/manage.html", booking=booking, token=token, book_again=_book_again_url(booking)
    )


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
    """A link that finds no booking (mistyped, or replaced by a newer one) answers 404 with
    the way to get the links again."""
    try:
        return service.booking_by_token(get_session(), token)
    except BookingNotFound:
        page = render_template("booking/lost_link.html", form=LostLinkForm(), unknown_link=True)
        abort(make_response(page, 404))


def _book_again_url(booking: Booking) -> str | None:
    """The offering's request form, who the union is filled in; None while the booking
    still holds its dates, or when the offering is no longer offered."""
    if booking.holds_dates or not booking.offering.active:
        return None
    who = {name: getattr(booking, name) for name in WHO_FIELDS}
    who["phone"] = show_phone(booking.phone)  # as the union would type it, not as stored
    return url_for("booking.book", slug=booking.offering.slug, **who)


# --- "Lost your link?" ---------------------------------------------------------------------


class LostLinkForm(FlaskForm):
    email = StringField(
        _l("Email"),
        render_kw={"type": "email", "autocomplete": "email", "required": True},
    )


@blueprint.get("/bookings/lost-link")
def lost_link() -> str:
    return render_template("booking/lost_link.html", form=LostLinkForm())


@blueprint.post("/bookings/lost-link")
@limiter.limit(booking_rate_limit)
def send_lost_link() -> Response | tuple[str, int]:
    """Whatever the address, the same answer at the same speed: the links (if any) are
    found, renewed and sent after it (booking.lost_link.LinkSender)."""
    form = LostLinkForm()
    form.validate()  # the CSRF token, which CSRFProtect checked already; the address below
    typed = form.email.data or ""
    try:
        address = lost_links.read_address(typed)
    except InvalidBooking as error:
        form.email.data = _shown_back(typed)
        form.email.errors = [str(error.errors["email"])]
        return render_template("booking/lost_link.html", form=form), 422
    lost_links.sender.ask(current_app._get_current_object(), address)  # type: ignore[attr-defined]
    flash(_("You asked for the links of the requests made with %(email)s.", email=address))
    return redirect(url_for("booking.lost_link_sent"), code=303)


@blueprint.get("/bookings/lost-link/sent")
def lost_link_sent() -> str:
    return render_template("booking/lost_link_sent.html", quiet_minutes=_quiet_minutes())


def _quiet_minutes() -> int:
    return int(lost_links.QUIET_TIME.total_seconds() // 60)


def _shown_back(typed: Any) -> str:
    """What was typed, as it can be shown in the field again: no control character (NUL),
    and not longer than an address could be."""
    text = str(typed)[:SHOWN_BACK_LENGTH]
    return "".join(c for c in text if unicodedata.category(c) != "Cc")
