"""The staff's scan reports: scans by venue, screen, portrait and target over a date range,
with charts and a CSV export; and, on a union's private page once its exhibition has left,
what its own visitors scanned."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

from flask import Blueprint, Flask, render_template, request, url_for
from flask_babel import format_decimal, format_number
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from werkzeug.wrappers import Response

from booking.models import Booking
from core.clock import today_local
from core.database import get_session
from core.frame import add_page_part, add_staff_navigation
from core.i18n import current_language, format_day
from core.web import error_response
from kiosk import charts
from kiosk.models import PORTRAIT
from kiosk.report_service import (
    CSV_COLUMNS,
    MAX_DAYS,
    DayRange,
    InvalidRange,
    PortraitTally,
    RangeProblem,
    ScanReport,
    ScreenTally,
    Source,
    TargetTally,
    VenueTally,
    has_left,
    parse_range,
    scan_report,
    scan_rows,
    venue_totals,
)
from kiosk.targets import all_targets

blueprint = Blueprint("reports", __name__, url_prefix="/staff")


def _range_message(error: InvalidRange) -> str:
    if error.problem == RangeProblem.UNREADABLE:
        return _("The date could not be read; write it as YYYY-MM-DD, e.g. 2027-03-15.")
    if error.problem == RangeProblem.OUTSIDE:
        return _(
            "Choose a day between %(first)s and %(last)s.",
            first=format_day(error.earliest, "long"),
            last=format_day(error.latest, "long"),
        )
    if error.problem == RangeProblem.REVERSED:
        return _("The last day comes before the first: swap them.")
    return _("A report covers at most %(days)s days: choose a shorter period.", days=MAX_DAYS)


def _asked_range() -> DayRange:
    return parse_range(request.args.get("from"), request.args.get("to"), today_local())


def _as_typed(value: str | None) -> str:
    """What was typed, shown back in its field: one short line of printable text."""
    return "".join(character for character in (value or "")[:40] if character.isprintable())


@blueprint.get("/scans")
def scans_page() -> tuple[str, int]:
    try:
        period = _asked_range()
    except InvalidRange as error:
        return render_template(
            "kiosk/reports/scans.html",
            report=None,
            asked={name: _as_typed(request.args.get(name)) for name in ("from", "to")},
            errors={error.field: _range_message(error)},
        ), 422
    report = scan_report(get_session(), period)
    asked = {"from": period.first.isoformat(), "to": period.last.isoformat()}
    return render_template(
        "kiosk/reports/scans.html",
        report=report,
        asked=asked,
        errors={},
        charts=_charts(report),
        venue_name=venue_name,
        screen_name=screen_name,
        portrait_name=portrait_name,
        target_name=target_name,
        per_hundred_text=per_hundred_text,
        csv_url=url_for("reports.scans_csv", **asked),
    ), 200


@blueprint.get("/scans.csv")
def scans_csv() -> Response | tuple[Any, int]:
    try:
        period = _asked_range()
    except InvalidRange as error:
        return error_response(422, _range_message(error))
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    writer.writerows(scan_rows(get_session(), period))
    response = Response(buffer.getvalue(), mimetype="text/csv")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="scans-{period.first.isoformat()}-{period.last.isoformat()}.csv"'
    )
    return response


# What each row is called, on the page and in its chart.


def venue_name(tally: VenueTally) -> str:
    if tally.booking is None:
        return _("No venue")
    booking = tally.booking
    return " · ".join(part for part in (booking.reference, booking.organization) if part)


def screen_name(tally: ScreenTally) -> str:
    if tally.source == Source.PRINTED:
        return _("Printed cards and posters")
    if tally.source == Source.REMOVED:
        return _("Screens deleted since")
    assert tally.screen is not None
    return tally.screen.name


def portrait_name(tally: PortraitTally) -> str:
    portrait = tally.portrait
    if portrait is None:
        return _("Portraits removed since")
    place = ", ".join(part for part in (portrait.place, portrait.country) if part)
    return f"{place} ({portrait.slug})" if place else portrait.slug


def target_name(tally: TargetTally) -> str:
    if tally.key == PORTRAIT:
        return _("Portraits' stories")
    if tally.target is None:
        return tally.key
    return tally.target.label(current_language())


def _day_text(day: dt.date) -> str:
    return format_day(day, "d MMM")


def _charts(report: ScanReport) -> dict[str, Markup]:
    period = _("from %(first)s to %(last)s", **_period_words(report.period))
    number = format_number
    return {
        "daily": charts.line_chart(
            "chart-daily",
            report.daily,
            _("Scans per day"),
            _("A line of the scans of each day, %(period)s.", period=period),
            _day_text,
            number,
        ),
        "venues": charts.bar_chart(
            "chart-venues",
            [(venue_name(tally), tally.scans) for tally in report.venues],
            _("Scans per venue"),
            _("Bars of the scans at each venue, %(period)s.", period=period),
            number,
        ),
        "screens": charts.bar_chart(
            "chart-screens",
            [(screen_name(tally), tally.scans) for tally in report.screens],
            _("Scans per screen"),
            _("Bars of the scans of each screen's codes, %(period)s.", period=period),
            number,
        ),
        "portraits": charts.bar_chart(
            "chart-portraits",
            [(portrait_name(tally), tally.scans) for tally in report.portraits],
            _("Scans per portrait"),
            _("Bars of the scans of each portrait's code, %(period)s.", period=period),
            number,
        ),
        "targets": charts.bar_chart(
            "chart-targets",
            [(target_name(tally), tally.scans) for tally in report.targets],
            _("Scans per target"),
            _("Bars of the scans that led to each target, %(period)s.", period=period),
            number,
        ),
    }


def _period_words(period: DayRange) -> dict[str, str]:
    return {"first": format_day(period.first, "long"), "last": format_day(period.last, "long")}


def per_hundred_text(value: float) -> str:
    return format_decimal(value, "#,##0.0")


# The union's private page.


def draw_venue_scans(booking: Booking, **_context: Any) -> str:
    """The union's own visitors' scans, once the exhibition has left; nothing before, and
    nothing when nobody scanned."""
    if not has_left(booking, today_local()):
        return ""
    session = get_session()
    totals = venue_totals(session, booking)
    if not totals:
        return ""
    language = current_language()
    targets = all_targets(session)
    rows = [
        (target.label(language), totals[target.key]) for target in targets if totals.get(target.key)
    ]
    known = {target.key for target in targets}
    rows += [(key, scans) for key, scans in sorted(totals.items()) if key not in known | {PORTRAIT}]
    if totals.get(PORTRAIT):
        rows.append((_("Portraits' stories"), totals[PORTRAIT]))
    return render_template("kiosk/reports/_venue_scans.html", rows=rows, total=sum(totals.values()))


def init_app(app: Flask) -> None:
    app.register_blueprint(blueprint)
    add_staff_navigation(app, "reports.scans_page", _l("QR scans"))
    add_page_part(app, "booking_page", draw_venue_scans)
