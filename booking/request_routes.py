"""The request form: drawn, checked live, sent; and the waitlist offered when dates are taken."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import HiddenField, StringField

from booking import service, waitlist
from booking.availability import earliest_start
from booking.catalog import CatalogOffering
from booking.errors import DatesTaken, InvalidBooking
from booking.forms import RequestForm, booking_form
from booking.routes import blueprint, booking_rate_limit, mail_settings, offering_or_404
from booking.schema import NOT_A_DATE, read_date
from booking.submit import submit_request
from core.clock import now_utc, today_local
from core.database import get_session
from core.i18n import LANGUAGES, current_language
from core.limits import limiter
from core.web import render_page_or_fragment


def _form_page(offering: CatalogOffering, form: RequestForm, status: int = 200, **extra: object):  # type: ignore[no-untyped-def]
    """The request form, with what the union typed and what is wrong with it."""
    opens = earliest_start(offering, today_local())
    context = {"check": None, **extra}
    context["waitlist_form"] = _waitlist_offer(form, context["check"])  # type: ignore[arg-type]
    page = render_template(
        "booking/book.html", offering=offering, form=form, opens=opens, **context
    )
    return page, status


@blueprint.get("/book/<slug>")
def book(slug: str) -> tuple[str, int]:
    offering = offering_or_404(slug)
    form = booking_form(request.args)
    form.language.data = form.language.data or current_language()
    # Arriving from a suggested window: say at once whether its dates are still free.
    return _form_page(offering, form, check=_check(offering, form))


@blueprint.post("/book/<slug>")
@limiter.limit(booking_rate_limit)
def send_request(slug: str) -> Response | tuple[str, int]:
    offering = offering_or_404(slug)
    form = booking_form(request.form)
    if form.is_spam:
        return _form_page(offering, form, 400, refused=True)
    if not form.validate():  # the CSRF token
        return _form_page(offering, form, 422)
    booking_request = form.submitted(slug, offering.is_exhibition)
    if booking_request is None:
        return _form_page(offering, form, 422)
    try:
        submitted = submit_request(
            get_session(), mail_settings(), booking_request, today_local(), now_utc()
        )
    except InvalidBooking as error:
        form.attach_errors(error.errors)
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
    offering = offering_or_404(slug)
    form = booking_form(request.args, meta={"csrf": False})
    check = _check(offering, form)
    return render_template(
        "booking/_availability_answer.html",
        offering=offering,
        check=check,
        waitlist_form=_waitlist_offer(form, check),
    )


def _check(offering: CatalogOffering, form: RequestForm) -> service.DateCheck | None:
    """Nothing to say until both dates are typed and read as dates."""
    start, end = read_date(form.start.data), read_date(form.end.data)
    if start is None or end is None:
        return None
    return service.check_dates(get_session(), offering, start, end, today_local())


class WaitlistForm(FlaskForm):
    """Be told if taken dates free up: an email, and the dates and language as they were
    on the request form (booking.waitlist checks them all)."""

    email = StringField(_l("Email"), filters=[lambda value: value.strip() if value else value])
    start = HiddenField()
    end = HiddenField()
    language = HiddenField()


def _waitlist_offer(form: RequestForm, check: service.DateCheck | None) -> WaitlistForm | None:
    """Dates that are taken (not dates against a rule) may be waited for."""
    if check is None or check.free or check.errors:
        return None
    language = form.language.data if form.language.data in LANGUAGES else current_language()
    return WaitlistForm(
        formdata=None,
        meta={"csrf": False},  # the form's token is drawn once on the page (book.html)
        email=form.email.data or "",
        start=form.start.data,
        end=form.end.data,
        language=language,
    )


@blueprint.post("/book/<slug>/waitlist")
@limiter.limit(booking_rate_limit)
def join_waitlist(slug: str) -> tuple[str, int]:
    offering = offering_or_404(slug)
    form = WaitlistForm()
    form.validate()  # the CSRF token, which CSRFProtect checked already; the rest is below
    start, end = read_date(form.start.data), read_date(form.end.data)
    session = get_session()
    try:
        if start is None or end is None:
            read = (("start", start), ("end", end))
            raise InvalidBooking({name: NOT_A_DATE for name, day in read if day is None})
        entry = waitlist.join_waitlist(
            session,
            slug,
            start,
            end,
            form.email.data or "",
            form.language.data or current_language(),
            today_local(),
            now_utc(),
        )
    except InvalidBooking as error:
        session.rollback()
        form.email.errors = [str(error.errors["email"])] if "email" in error.errors else []
        others = [str(message) for name, message in error.errors.items() if name != "email"]
        return _waitlist_answer(offering, form, 422, problems=others)
    session.commit()
    # Joining twice keeps one entry: answering here (not after a redirect) is safe to repeat.
    return _waitlist_answer(offering, form, 200, joined=entry)


def _waitlist_answer(
    offering: CatalogOffering, form: WaitlistForm, status: int, **context: object
) -> tuple[str, int]:
    """The page, or in place of the offer under the dates when HTMX sent it."""
    fragment = (
        "booking/waitlist_joined.html" if context.get("joined") else "booking/waitlist_offer.html"
    )
    page = render_page_or_fragment(
        "booking/waitlist.html",
        fragment,
        "waitlist-offer",
        offering=offering,
        waitlist_form=form,
        **context,
    )
    return page, status


@blueprint.get("/waitlist/<token>")
def waitlist_link(token: str) -> Response | tuple[str, int]:
    """The link in a waitlist email: the request form filled in while the dates are free,
    a page saying the link has expired once someone else took them. Changes nothing."""
    try:
        link = waitlist.open_link(get_session(), token, today_local())
    except waitlist.UnknownWaitlistLink:
        abort(404)
    if not link.free:
        return render_template("booking/waitlist_expired.html", offering=link.offering), 410
    entry = link.entry
    target = url_for(
        "booking.book",
        slug=link.offering.slug,
        start=entry.start_date.isoformat(),
        end=entry.end_date.isoformat(),
        email=entry.email,
        language=entry.language,
    )
    return redirect(target, code=303)
