"""The union's public pages: the offerings and their calendars. The request form's routes are in
booking.request_routes, the private booking page's in booking.private_routes (same blueprint)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from flask import (
    Blueprint,
    abort,
    current_app,
    render_template,
    request,
)
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from booking import catalog
from booking.availability import (
    SEARCH_HORIZON_YEARS,
    earliest_start,
    free_stretches,
    readable_range,
)
from booking.catalog import CatalogOffering
from booking.errors import (
    TryAgain,
    UnknownOffering,
)
from booking.month import InvalidMonth, MonthView, last_month, month_view, parse_month
from booking.page_cache import cached_page
from booking.picking import chosen_days, pick_day
from booking.schema import read_date
from core.clock import today_local
from core.database import get_session
from core.i18n import format_day
from core.outbox import MailSettings
from core.web import RETRY_SECONDS, render_page_or_fragment, retry_later
from media.portraits import public_portraits

blueprint = Blueprint("booking", __name__)
PORTRAITS_SHOWN = 4  # a few of the exhibition's portraits, so unions see what they book


def booking_rate_limit() -> str:
    """Read per request from the config; the form and the API share it."""
    return current_app.config["RATELIMIT_BOOKING"]


def mail_settings() -> MailSettings:
    """Links on the configured public address, never on the Host this request named."""
    return MailSettings.from_config(current_app.config)


@blueprint.app_errorhandler(TryAgain)
def busy(_error: TryAgain) -> tuple[Response, int]:
    """Rare: every attempt lost a race to other requests; the form and API both say so."""
    return retry_later(503, RETRY_SECONDS)


def offering_or_404(slug: str) -> CatalogOffering:
    try:
        return catalog.offering_by_slug(get_session(), slug)
    except UnknownOffering:
        abort(404)


@blueprint.get("/")
def index() -> Response:
    return cached_page(get_session(), _draw_index)


def _draw_index() -> str:
    session = get_session()
    today = today_local()
    offerings = catalog.active_offerings(session)
    stretches = {offering.id: free_stretches(session, offering, today) for offering in offerings}
    return render_template(
        "booking/index.html",
        offerings=offerings,
        stretches=stretches,
        portraits=public_portraits(session, today, limit=PORTRAITS_SHOWN),
        search_years=SEARCH_HORIZON_YEARS,
    )


@dataclass(frozen=True)
class ShownCalendar:
    """The month a calendar shows and the days chosen on it, as its address asked."""

    month: MonthView
    first: dt.date | None
    last: dt.date | None
    problem: str | None  # what was wrong with the address; the calendar opens as usual


def _shown_calendar(
    offering: CatalogOffering, args: Mapping[str, str], month_name: str, typed: bool = False
) -> ShownCalendar:
    """Reads the month (`month_name`) and the chosen days (`start`, `end`). What cannot be
    read is named in `problem`, and the calendar opens without it: on its usual month, or
    with no day chosen. Days `typed` into the request form are shown chosen when they read
    as dates, and are otherwise the form's to explain (its live check does)."""
    today = today_local()
    opens = earliest_start(offering, today)
    first = last = problem = None
    try:
        first_of_month = parse_month(args.get(month_name), today, opens)
    except InvalidMonth:
        first_of_month = parse_month(None, today, opens)
        problem = _(
            "There is no calendar for that month: choose one from %(first)s to %(last)s.",
            first=format_day(today.replace(day=1), "LLLL yyyy"),
            last=format_day(last_month(today), "LLLL yyyy"),
        )
    else:
        try:
            first, last = _chosen(offering, args, today)
        except ValueError:
            if not typed:
                problem = _("The chosen days could not be read: choose them again on the calendar.")
    view = month_view(get_session(), offering, first_of_month, today)
    return ShownCalendar(view, first, last, problem)


def _chosen(
    offering: CatalogOffering, args: Mapping[str, str], today: dt.date
) -> tuple[dt.date | None, dt.date | None]:
    """The chosen days: empty or absent is none; a day that is not a date, lies outside the
    days a calendar can show, or a last day without a first, is a ValueError."""
    reach = readable_range(today)
    days = []
    for name in ("start", "end"):
        text = args.get(name) or ""
        day = read_date(text) if text else None
        if text and (day is None or not reach.start <= day <= reach.end):
            raise ValueError(name)
        days.append(day)
    first, last = days
    if first is None and last is not None:
        raise ValueError("end")
    return chosen_days(offering, first, last)


@blueprint.get("/offerings/<slug>")
def offering(slug: str) -> Response:
    return cached_page(get_session(), lambda: _draw_offering(slug))


def _draw_offering(slug: str) -> tuple[str, int]:
    offering = offering_or_404(slug)
    shown = _shown_calendar(offering, request.args, "month")
    portraits = []
    if offering.is_exhibition:
        portraits = public_portraits(get_session(), today_local(), PORTRAITS_SHOWN)
    page = render_page_or_fragment(
        "booking/offering.html",
        "booking/_calendar.html",
        "calendar",
        offering=offering,
        month=shown.month,
        picked=(shown.first, shown.last),
        pick=lambda day: pick_day(offering, shown.first, shown.last, day),
        calendar_problem=shown.problem,
        portraits=portraits,
    )
    return page, 400 if shown.problem else 200


@blueprint.get("/book/<slug>/calendar")
def form_calendar(slug: str) -> tuple[str, int]:
    """The request form's calendar on another month, for HTMX (the month buttons without
    JavaScript post the whole form to booking.redraw_form instead): the days chosen are
    the form's dates, sent along."""
    offering = offering_or_404(slug)
    shown = _shown_calendar(offering, request.args, "show_month", typed=True)
    page = render_template(
        "booking/_calendar.html",
        in_form=True,
        offering=offering,
        month=shown.month,
        picked=(shown.first, shown.last),
        calendar_problem=shown.problem,
    )
    return page, 400 if shown.problem else 200
