"""The union's public pages: the offerings and their calendars. The request form's routes are in
booking.request_routes, the private booking page's in booking.private_routes (same blueprint)."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    render_template,
    request,
)
from werkzeug.wrappers import Response

from booking import catalog
from booking.availability import SEARCH_HORIZON_YEARS, earliest_start, next_windows
from booking.catalog import CatalogOffering
from booking.errors import (
    TryAgain,
    UnknownOffering,
)
from booking.month import DAY_LABELS, InvalidMonth, month_view, parse_month
from booking.page_cache import cached_page
from core.clock import today_local
from core.database import get_session
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
    windows = {
        offering.id: next_windows(session, offering, offering.min_days, today, today)
        for offering in offerings
    }
    return render_template(
        "booking/index.html",
        offerings=offerings,
        windows=windows,
        portraits=public_portraits(session, today, limit=PORTRAITS_SHOWN),
        search_years=SEARCH_HORIZON_YEARS,
    )


@blueprint.get("/offerings/<slug>")
def offering(slug: str) -> Response:
    return cached_page(get_session(), lambda: _draw_offering(slug))


def _draw_offering(slug: str) -> str:
    offering = offering_or_404(slug)
    today = today_local()
    try:
        first = parse_month(request.args.get("month"), today, earliest_start(offering, today))
    except InvalidMonth:
        abort(400)
    view = month_view(get_session(), offering, first, today)
    shown = []
    if offering.is_exhibition:
        shown = public_portraits(get_session(), today, PORTRAITS_SHOWN)
    return render_page_or_fragment(
        "booking/offering.html",
        "booking/_calendar.html",
        "calendar",
        offering=offering,
        month=view,
        portraits=shown,
        # Translated once for the page, not once per day cell.
        day_labels={reason: str(label) for reason, label in DAY_LABELS.items()},
    )
