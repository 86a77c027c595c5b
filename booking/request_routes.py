"""The request form: drawn, drawn again with all that was typed (a day, a month, a suggested
window or the language chosen without JavaScript), checked live, sent; and the waitlist
offered when dates are taken."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from flask import abort, flash, make_response, redirect, render_template, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_limiter import RequestLimit
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response
from wtforms import HiddenField, StringField

from booking import catalog, schema, service, waitlist
from booking.availability import earliest_start, latest_start
from booking.catalog import CatalogOffering
from booking.errors import DatesTaken, InvalidBooking, UnknownOffering
from booking.forms import FormInput, RequestForm, booking_form
from booking.month import InvalidMonth, month_view, parse_month
from booking.picking import pick_day
from booking.routes import blueprint, booking_rate_limit, mail_settings, offering_or_404
from booking.schema import NOT_A_DATE, read_date
from booking.submit import submit_request
from core.clock import LOCAL_TIMEZONE, now_utc, today_local
from core.database import get_session
from core.i18n import LANGUAGES, current_language, format_day, remember_language
from core.limits import limiter
from core.web import render_page_or_fragment

# The form's fieldsets in the order the page shows them; a group the schema adds later is
# drawn after these, under its own legend if it has one here.
LEGENDS = {"dates": _l("Dates"), "who": _l("Who you are"), "where": _l("Where and for whom")}
OTHER_LEGEND = _l("About your event")
# Not fields a union fills in: never listed among the fields to correct.
NOT_TYPED = ("csrf_token", "leave_empty")
_COMPUTE: Any = object()


@dataclass(frozen=True)
class Problem:
    """A line of the error summary: the field, what is wrong, the input its link moves to."""

    target: str
    label: str
    messages: list[str]


def _form_page(
    offering: CatalogOffering,
    form: RequestForm,
    status: int = 200,
    *,
    months: Iterable[object] = (),
    check: service.DateCheck | None = _COMPUTE,
    **extra: object,
) -> tuple[str, int]:
    """The request form with what the union typed, the live answer for its dates, what is
    wrong with it, and the calendar on the first of `months` it can show (else the month of
    the first day typed, else the month requests open)."""
    session = get_session()
    today = today_local()
    opens = earliest_start(offering, today)
    # Read before the calendar and the check: a change after this reads as "in the meantime".
    version = catalog.calendar_version(session)
    if check is _COMPUTE:
        check = _check(offering, form)
    start, _end = form.dates(offering)
    first = _calendar_month(today, opens, (*months, start))
    page = render_template(
        "booking/book.html",
        offering=offering,
        form=form,
        opens=opens,
        check=check,
        waitlist_form=_waitlist_offer(offering, form, check),
        calendar_version=version,
        month=month_view(session, offering, first, today),
        fieldsets=_fieldsets(form),
        date_ids=[
            each.field.id for each in _shown_inputs(offering, form) if each.spec.widget == "date"
        ],
        to_correct=_to_correct(offering, form),
        **extra,
    )
    return page, status


def _calendar_month(today: dt.date, opens: dt.date, candidates: Iterable[object]) -> dt.date:
    """The first candidate month ("YYYY-MM", or a date's) the calendar can show."""
    for candidate in candidates:
        if isinstance(candidate, dt.date):
            candidate = f"{candidate.year:04d}-{candidate.month:02d}"
        if not isinstance(candidate, str) or not candidate:
            continue
        try:
            return parse_month(candidate, today, opens)
        except InvalidMonth:
            continue
    return parse_month(None, today, opens)


def _fieldsets(form: RequestForm) -> list[tuple[str, object]]:
    """The groups of the schema's fields, the known ones first, each with its legend."""
    groups = list(LEGENDS)
    for _field, spec in schema.form_fields(form.schema).values():
        if spec.group and spec.group not in groups:
            groups.append(spec.group)
    return [(group, LEGENDS.get(group, OTHER_LEGEND)) for group in groups]


def _shown_inputs(offering: CatalogOffering, form: RequestForm) -> list[FormInput]:
    return [each for group, _legend in _fieldsets(form) for each in form.in_group(group, offering)]


def _input_id(each: FormInput) -> str:
    """A choice's first option takes focus (its group has no element of its own)."""
    return f"{each.field.id}-0" if each.spec.widget == "radio" else each.field.id


def _to_correct(offering: CatalogOffering, form: RequestForm) -> list[Problem]:
    """Every field in error, in the order of the page; an error on a field the page does not
    show (a training's last day, derived from its date) points at the dates."""
    shown = _shown_inputs(offering, form)
    problems = [
        Problem(_input_id(each), str(each.field.label.text), [str(m) for m in each.field.errors])
        for each in shown
        if each.field.errors
    ]
    names = {each.field.name for each in shown}
    dates = next((_input_id(each) for each in shown if each.spec.widget == "date"), "start")
    for name, field in form._fields.items():
        if field.errors and name not in names and name not in NOT_TYPED:
            problems.append(Problem(dates, str(field.label.text), [str(m) for m in field.errors]))
    return problems


@blueprint.get("/book/<slug>")
def book(slug: str) -> tuple[str, int]:
    offering = offering_or_404(slug)
    form = booking_form(request.args)
    form.language.data = form.language.data or current_language()
    # From "Request these dates" (the offering page's calendar: its month and picked days),
    # or a suggested window: the calendar opens there and says at once whether it is free.
    return _form_page(offering, form, months=(request.args.get("month"),))


# --- drawing the form again (the buttons that work without JavaScript) ---------------------


class CannotRedraw(ValueError):
    """A value no button of the page sends: made by hand, or from a page left open so long
    that its month has passed. The form is drawn again as it was, with this message."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Redraw:
    """What the button asked for, read and checked before anything typed is touched."""

    day: dt.date | None = None
    month: str | None = None
    window: tuple[dt.date, dt.date] | None = None
    language: str | None = None


def _on_calendar(day: dt.date | None, today: dt.date, opens: dt.date) -> bool:
    if day is None:
        return False
    try:
        parse_month(f"{day.year:04d}-{day.month:02d}", today, opens)
    except InvalidMonth:
        return False
    return True


def _read_redraw(sent: MultiDict, today: dt.date, opens: dt.date) -> Redraw:
    values: dict[str, Any] = {}
    if "pick_day" in sent:
        day = read_date(sent["pick_day"])
        if not _on_calendar(day, today, opens):
            raise CannotRedraw(_("That day is not on the calendar: pick one of the days it shows."))
        values["day"] = day
    if "use_window" in sent:
        first_text, _slash, last_text = sent["use_window"].partition("/")
        first, last = read_date(first_text), read_date(last_text)
        if (
            first is None
            or last is None
            or last < first
            or not (_on_calendar(first, today, opens) and _on_calendar(last, today, opens))
        ):
            raise CannotRedraw(_("That suggestion could not be read: choose one again."))
        values["window"] = (first, last)
    if "switch_language" in sent:
        if sent["switch_language"] not in LANGUAGES:
            raise CannotRedraw(_("The page is shown in French (fr) or English (en)."))
        values["language"] = sent["switch_language"]
    if "show_month" in sent:
        try:
            shown = parse_month(sent["show_month"] or "-", today, opens)
        except InvalidMonth:
            # The calendar's month list goes along with every button: a month it offered
            # on a page left open since then does not stop the button that was pressed.
            if values:
                return Redraw(**values)
            raise CannotRedraw(
                _(
                    "That month is not on the calendar: it shows %(first)s to %(last)s.",
                    first=format_day(today.replace(day=1), "LLLL yyyy"),
                    last=format_day(latest_start(today).replace(day=1), "LLLL yyyy"),
                )
            ) from None
        values["month"] = f"{shown.year:04d}-{shown.month:02d}"
    return Redraw(**values)


def _apply(offering: CatalogOffering, form: RequestForm, redraw: Redraw) -> list[object]:
    """Fills the dates the button chose; returns the months to show, the first that fits:
    a suggestion's or a picked day's month before show_month, which the calendar's month
    list sends with every button of the form (its month buttons come first)."""
    months: list[object] = []
    if redraw.window:
        first, last = redraw.window
        form.start.data, form.end.data = first.isoformat(), last.isoformat()
        months.append(first)
    if redraw.day:
        first, last = form.dates(offering)
        picked_first, picked_last = pick_day(offering, first, last, redraw.day)
        form.start.data = picked_first.isoformat()
        form.end.data = picked_last.isoformat() if picked_last else ""
        months.append(redraw.day)
    months.append(redraw.month)
    return months


@blueprint.post("/book/<slug>/form")
def redraw_form(slug: str) -> Response | tuple[str, int]:
    """The form drawn again with everything typed, after a calendar day or month, a
    suggested window or the language was chosen without JavaScript. Stores nothing: it
    needs no limit of its own and takes nothing from the budget for sending requests."""
    offering = offering_or_404(slug)
    form = booking_form(request.form)
    today = today_local()
    shown = request.form.get("month")  # the month the calendar was showing
    try:
        redraw = _read_redraw(request.form, today, earliest_start(offering, today))
    except CannotRedraw as problem:
        return _form_page(offering, form, 400, months=(shown,), redraw_problem=problem.message)
    months = [*_apply(offering, form, redraw), shown]
    if redraw.language is None:
        return _form_page(offering, form, months=months)
    with force_locale(redraw.language):
        page, status = _form_page(offering, form, months=months)
    response = make_response(page, status)
    remember_language(response, redraw.language)
    return response


@blueprint.get("/book/<slug>/form")
def form_address(slug: str) -> Response:
    """The address of a form drawn again, opened anew (from the address bar, a bookmark):
    the form. What was typed was never in the address, so it cannot come back from it."""
    offering_or_404(slug)
    return redirect(url_for("booking.book", slug=slug), code=303)


# --- sending ----------------------------------------------------------------------------


def _cost_of_sending() -> int:
    """What a request costs against the limit, known before it is handled so that it is
    counted at once: counted after its answer (deduct_when), requests sent together all
    passed a limit none of them had yet counted, and held dates past it. A request that
    goes on to the calendar costs 1 (held, found taken, or refused by its rules); a form
    sent back without reaching it (a typo, a missing answer, spam) costs nothing, and live
    checks and redraws are not limited at all, so an office of several organisers sharing
    one address is not stopped by its own corrections, while holds (and the calendar lock)
    stay bounded per address."""
    try:
        offering = catalog.offering_by_slug(
            get_session(), (request.view_args or {}).get("slug", "")
        )
    except UnknownOffering:
        return 0
    form = booking_form(request.form)
    if form.is_spam or not form.validate():
        return 0
    return 0 if form.submitted(offering) is None else 1


def _form_kept_past_the_limit(limit: RequestLimit) -> Response:
    """Past the limit: the form with all that was typed, when to try again, and whom to
    write to or call meanwhile; Retry-After as on every answer that says to come back."""
    offering = offering_or_404((request.view_args or {}).get("slug", ""))
    form = booking_form(request.form)
    seconds = max(1, int(limit.reset_at - now_utc().timestamp()))
    shown = (form.dates(offering)[0], request.form.get("month"))
    page, status = _form_page(offering, form, 429, months=shown, limited=_try_again(seconds))
    response = make_response(page, status)
    response.headers["Retry-After"] = str(seconds)
    return response


def _try_again(seconds: int) -> str:
    """When to send again, in words and in Montréal time."""
    moment = (now_utc() + dt.timedelta(seconds=seconds)).astimezone(LOCAL_TIMEZONE)
    clock = schema.clock_time(moment.time().replace(second=0, microsecond=0))
    minutes = -(-seconds // 60)
    if minutes <= 1:
        return _("You can try again in a minute, at %(time)s (Montréal time).", time=clock)
    if minutes <= 90:
        return _(
            "You can try again in %(minutes)s minutes, at %(time)s (Montréal time).",
            minutes=minutes,
            time=clock,
        )
    day = moment.date()
    if day == today_local():
        return _("You can try again at %(time)s (Montréal time).", time=clock)
    return _(
        "You can try again on %(day)s at %(time)s (Montréal time).",
        day=format_day(day, "long"),
        time=clock,
    )


@blueprint.post("/book/<slug>")
@limiter.limit(booking_rate_limit, cost=_cost_of_sending, on_breach=_form_kept_past_the_limit)
def send_request(slug: str) -> Response | tuple[str, int]:
    offering = offering_or_404(slug)
    form = booking_form(request.form)
    # Sent back, the calendar shows the dates typed (else the month it was showing).
    shown = (form.dates(offering)[0], request.form.get("month"))
    if form.is_spam:
        return _form_page(offering, form, 400, months=shown, refused=True)
    if not form.validate():  # the CSRF token
        return _form_page(offering, form, 422, months=shown)
    booking_request = form.submitted(offering)
    if booking_request is None:
        return _form_page(offering, form, 422, months=shown)
    try:
        submitted = submit_request(
            get_session(), mail_settings(), booking_request, today_local(), now_utc()
        )
    except InvalidBooking as error:
        form.attach_errors(error.errors)
        return _form_page(offering, form, 422, months=shown)
    except DatesTaken as error:
        check = service.DateCheck(free=False, windows=error.next_available)
        return _form_page(
            offering, form, 409, months=shown, check=check, taken=_taken_when(request.form)
        )
    flash(
        _(
            "Your request is received. Your dates are held until our team decides; "
            "we sent a confirmation to %(email)s.",
            email=submitted.booking.email,
        )
    )
    return redirect(url_for("booking.manage", token=submitted.manage_token), code=303)


def _taken_when(sent: MultiDict) -> str:
    """ "already" when the calendar has not changed since the union last saw it (the page
    was drawn, or the live check answered, with the same calendar version), so the dates
    were taken then; "meantime" when it changed, or the page did not say."""
    seen = sent.get("calendar_version", "")
    return "already" if seen == str(catalog.calendar_version(get_session())) else "meantime"


# --- the live check ------------------------------------------------------------------------


@blueprint.get("/book/<slug>/check")
def check_dates(slug: str) -> str:
    """The live answer under the date fields: free, or taken with the next free windows."""
    offering = offering_or_404(slug)
    form = booking_form(request.args, meta={"csrf": False})
    version = catalog.calendar_version(get_session())
    check = _check(offering, form)
    return render_template(
        "booking/_availability_answer.html",
        offering=offering,
        check=check,
        waitlist_form=_waitlist_offer(offering, form, check),
        calendar_version=version,
    )


def _check(offering: CatalogOffering, form: RequestForm) -> service.DateCheck | None:
    """Nothing to say until the dates are typed and read as dates."""
    start, end = form.dates(offering)
    if start is None or end is None:
        return None
    return service.check_dates(get_session(), offering, start, end, today_local())


# --- the waitlist ----------------------------------------------------------------------------


class WaitlistForm(FlaskForm):
    """Be told if taken dates free up: an email, and the dates and language as they were
    on the request form (booking.waitlist checks them all)."""

    email = StringField(_l("Email"), filters=[lambda value: value.strip() if value else value])
    start = HiddenField()
    end = HiddenField()
    language = HiddenField()


def _waitlist_offer(
    offering: CatalogOffering, form: RequestForm, check: service.DateCheck | None
) -> WaitlistForm | None:
    """Dates that are taken (not dates against a rule) may be waited for."""
    if check is None or check.free or check.errors:
        return None
    language = form.language.data if form.language.data in LANGUAGES else current_language()
    start, end = form.dates(offering)  # a training's last day is its date's
    return WaitlistForm(
        formdata=None,
        meta={"csrf": False},  # the form's token is drawn once on the page (book.html)
        email=form.email.data or "",
        start=start.isoformat() if start else form.start.data,
        end=end.isoformat() if end else form.end.data,
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
