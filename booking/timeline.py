"""The staff calendar: each offering's units as rows, days across, bookings, transit days and
blackouts drawn where they fall, for a few weeks or a few months at a time."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from enum import StrEnum

from flask import Blueprint, Flask, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from booking.availability import readable_range
from booking.models import Blackout, Booking, Offering, Unit
from booking.status import BookingStatus
from core.clock import today_local
from core.database import get_session
from core.frame import add_staff_navigation
from core.i18n import format_day
from core.web import error_response, render_page_or_fragment

# Declined and cancelled bookings hold nothing and are not drawn.
DRAWN_STATUSES = (BookingStatus.REQUESTED, BookingStatus.CONFIRMED, BookingStatus.COMPLETED)
DATE_PATTERN = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
# Rows of one unit when its bookings and blackouts overlap; static/desk.css has lanes 1 to 4.
MAX_LANES = 4


class View(StrEnum):
    WEEKS = "weeks"  # six weeks, a readable column per day
    MONTHS = "months"  # half a year, narrow day columns


# Both views start on a Monday and show whole weeks; static/desk.css has a class for every
# day position up to the longest.
VIEW_WEEKS = {View.WEEKS: 6, View.MONTHS: 26}
WEEKS_STEP_DAYS = 28  # previous and next move the six weeks by four, keeping two in sight
MONTHS_STEP = 3  # and the half year by a quarter


class CalendarQueryError(ValueError):
    """The calendar was asked for something it cannot show."""


class UnreadableDate(CalendarQueryError):
    pass


class DateOutsideCalendar(CalendarQueryError):
    def __init__(self, first: dt.date, last: dt.date) -> None:
        super().__init__(first, last)
        self.first, self.last = first, last


class UnknownView(CalendarQueryError):
    pass


class UnknownOfferingSlug(CalendarQueryError):
    pass


@dataclass(frozen=True)
class DayRange:
    """The days shown, and where previous and next lead (None at the calendar's edges)."""

    view: View
    anchor: dt.date  # the day asked for; the range is drawn around it
    first: dt.date
    last: dt.date
    previous: dt.date | None
    next: dt.date | None

    @property
    def length(self) -> int:
        return (self.last - self.first).days + 1

    def index(self, day: dt.date) -> int:
        """The day's column, 1 for the first day shown."""
        return (day - self.first).days + 1

    def dates(self) -> list[dt.date]:
        return [self.first + dt.timedelta(days=n) for n in range(self.length)]


@dataclass(frozen=True)
class Span:
    """Where a range of days falls on the timeline: its first column and how many columns,
    and whether it goes on past either edge."""

    column: int
    days: int
    cut_before: bool
    cut_after: bool


@dataclass(frozen=True)
class BookingBar:
    booking: Booking
    lane: int
    own: Span | None  # the booking's own dates (None when only transit days are in range)
    before: Span | None  # transit and set-up days before them
    after: Span | None  # and after


@dataclass(frozen=True)
class BlackoutBar:
    blackout: Blackout
    lane: int
    span: Span
    whole_offering: bool


@dataclass(frozen=True)
class UnitRow:
    unit: Unit
    lanes: int
    bookings: list[BookingBar]
    blackouts: list[BlackoutBar]


@dataclass(frozen=True)
class OfferingTimeline:
    offering: Offering
    rows: list[UnitRow]


@dataclass(frozen=True)
class MonthLabel:
    month: dt.date  # its first day
    span: Span


@dataclass(frozen=True)
class Timeline:
    days: DayRange
    today: dt.date
    today_column: int | None  # None when today is not shown
    months: list[MonthLabel]
    offerings: list[OfferingTimeline]
    choices: list[Offering]  # every offering, for choosing one
    chosen: Offering | None


def parse_view(value: str | None) -> View:
    if not value:
        return View.WEEKS
    try:
        return View(value)
    except ValueError:
        raise UnknownView(value) from None


def parse_day(value: str | None, today: dt.date) -> dt.date | None:
    """A YYYY-MM-DD date inside the days the calendar can show (the public calendar's
    reach, both ways), or None when absent."""
    if not value:
        return None
    if not DATE_PATTERN.match(value):
        raise UnreadableDate(value)
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        raise UnreadableDate(value) from None
    reach = readable_range(today)
    if not reach.start <= day <= reach.end:
        raise DateOutsideCalendar(reach.start, reach.end)
    return day


def day_range(view: View, anchor: dt.date | None, today: dt.date) -> DayRange:
    """The whole weeks shown for a day: in weeks, from the Monday of its week (by default a
    week before today's); in months, from the Monday before the first of its month."""
    if view == View.WEEKS:
        anchor = anchor or today - dt.timedelta(days=7)
        step = dt.timedelta(days=WEEKS_STEP_DAYS)
        previous, following = anchor - step, anchor + step
        first = _monday_of(anchor)
    else:
        anchor = (anchor or today).replace(day=1)
        previous, following = _add_months(anchor, -MONTHS_STEP), _add_months(anchor, MONTHS_STEP)
        first = _monday_of(anchor)
    last = first + dt.timedelta(weeks=VIEW_WEEKS[view], days=-1)
    reach = readable_range(today)
    return DayRange(
        view=view,
        anchor=anchor,
        first=first,
        last=last,
        previous=previous if previous >= reach.start else None,
        next=following if following <= reach.end else None,
    )


def _monday_of(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def _add_months(first: dt.date, months: int) -> dt.date:
    index = first.year * 12 + first.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def span_of(days: DayRange, start: dt.date, end: dt.date) -> Span | None:
    """Where [start, end] falls on the shown days, cut at the edges; None when outside."""
    if end < days.first or start > days.last or end < start:
        return None
    shown_start, shown_end = max(start, days.first), min(end, days.last)
    return Span(
        column=days.index(shown_start),
        days=(shown_end - shown_start).days + 1,
        cut_before=start < days.first,
        cut_after=end > days.last,
    )


def timeline(
    session: Session, days: DayRange, today: dt.date, offering_slug: str | None = None
) -> Timeline:
    """The calendar for the shown days: three queries bounded by those days, whatever the
    years of bookings behind or ahead."""
    choices = session.scalars(
        select(Offering)
        .options(selectinload(Offering.units))
        .order_by(Offering.position, Offering.id)
    ).all()
    chosen = next((o for o in choices if o.slug == offering_slug), None)
    if offering_slug and chosen is None:
        raise UnknownOfferingSlug(offering_slug)
    offerings = [chosen] if chosen else list(choices)
    offering_ids = [offering.id for offering in offerings]
    unit_ids = [unit.id for offering in offerings for unit in offering.units]
    bookings = session.scalars(
        select(Booking)
        .where(
            Booking.offering_id.in_(offering_ids),
            Booking.status.in_(DRAWN_STATUSES),
            Booking.blocked_start <= days.last,
            Booking.blocked_end >= days.first,
        )
        .order_by(Booking.blocked_start, Booking.id)
    ).all()
    blackouts = session.scalars(
        select(Blackout)
        .where(
            or_(Blackout.offering_id.in_(offering_ids), Blackout.unit_id.in_(unit_ids)),
            Blackout.start_date <= days.last,
            Blackout.end_date >= days.first,
        )
        .order_by(Blackout.start_date, Blackout.id)
    ).all()
    drawn = [
        _offering_timeline(offering, days, bookings, blackouts)
        for offering in offerings
        if offering.active or chosen is not None or _has_rows_in_range(offering, bookings)
    ]
    return Timeline(
        days=days,
        today=today,
        today_column=days.index(today) if days.first <= today <= days.last else None,
        months=_month_labels(days),
        offerings=drawn,
        choices=list(choices),
        chosen=chosen,
    )


def _has_rows_in_range(offering: Offering, bookings: list[Booking]) -> bool:
    return any(booking.offering_id == offering.id for booking in bookings)


def _offering_timeline(
    offering: Offering, days: DayRange, bookings: list[Booking], blackouts: list[Blackout]
) -> OfferingTimeline:
    """One row per active unit, and per retired unit with bookings among the shown days."""
    booked_units = {booking.unit_id for booking in bookings}
    rows = []
    for unit in offering.units:
        if not unit.active and unit.id not in booked_units:
            continue
        mine = [booking for booking in bookings if booking.unit_id == unit.id]
        dark = [
            blackout
            for blackout in blackouts
            if blackout.unit_id == unit.id or blackout.offering_id == offering.id
        ]
        rows.append(_unit_row(unit, days, mine, dark))
    return OfferingTimeline(offering, rows)


def _unit_row(
    unit: Unit, days: DayRange, bookings: list[Booking], blackouts: list[Blackout]
) -> UnitRow:
    lanes = _Lanes()
    booking_bars = []
    blackout_bars = []
    # Holds never overlap on a unit, nor blackouts holds; but a blackout of the whole
    # offering may meet one of the unit's own (or one made before that rule): overlapping
    # things go on a lane below instead of hiding each other.
    things: list[tuple[dt.date, dt.date, Booking | Blackout]] = [
        (booking.blocked_start, booking.blocked_end, booking) for booking in bookings
    ] + [(blackout.start_date, blackout.end_date, blackout) for blackout in blackouts]
    things.sort(key=lambda thing: (thing[0], thing[1]))
    for start, end, thing in things:
        lane = lanes.place(start, end)
        if isinstance(thing, Booking):
            one_day = dt.timedelta(days=1)
            booking_bars.append(
                BookingBar(
                    booking=thing,
                    lane=lane,
                    own=span_of(days, thing.start_date, thing.end_date),
                    before=span_of(days, thing.blocked_start, thing.start_date - one_day),
                    after=span_of(days, thing.end_date + one_day, thing.blocked_end),
                )
            )
        else:
            span = span_of(days, start, end)
            assert span is not None  # the query only reads blackouts meeting the range
            blackout_bars.append(BlackoutBar(thing, lane, span, thing.unit_id is None))
    return UnitRow(unit, lanes.count, booking_bars, blackout_bars)


class _Lanes:
    """Puts each range on the first lane where it meets nothing (ranges come by start)."""

    def __init__(self) -> None:
        self.ends: list[dt.date] = []

    def place(self, start: dt.date, end: dt.date) -> int:
        for lane, lane_end in enumerate(self.ends):
            if lane_end < start:
                self.ends[lane] = end
                return lane + 1
        if len(self.ends) < MAX_LANES:
            self.ends.append(end)
            return len(self.ends)
        self.ends[-1] = max(self.ends[-1], end)
        return MAX_LANES

    @property
    def count(self) -> int:
        return max(1, len(self.ends))


def _month_labels(days: DayRange) -> list[MonthLabel]:
    labels = []
    month = days.first.replace(day=1)
    while month <= days.last:
        following = _add_months(month, 1)
        span = span_of(days, month, following - dt.timedelta(days=1))
        if span is not None:
            labels.append(MonthLabel(month, span))
        month = following
    return labels


# The web page.

blueprint = Blueprint("timeline", __name__, url_prefix="/staff")


@blueprint.get("/calendar")
def calendar_page() -> str | tuple[object, int]:
    today = today_local()
    try:
        view = parse_view(request.args.get("view"))
        days = day_range(view, parse_day(request.args.get("from"), today), today)
        drawn = timeline(get_session(), days, today, request.args.get("offering") or None)
    except CalendarQueryError as error:
        return refusal(error)
    return render_page_or_fragment(
        "booking/desk/calendar.html",
        "booking/desk/_timeline.html",
        "timeline",
        timeline=drawn,
        views=list(View),
    )


def refusal(error: CalendarQueryError) -> tuple[object, int]:
    """The error page that says what was wrong with what the address asked for."""
    if isinstance(error, UnknownOfferingSlug):
        return error_response(404, _("No offering is called “%(slug)s”.", slug=str(error)[:80]))
    if isinstance(error, UnknownView):
        message = _("The calendar shows weeks or months; choose one of them.")
    elif isinstance(error, DateOutsideCalendar):
        message = _(
            "The calendar shows the days from %(first)s to %(last)s; choose a date between them.",
            first=format_day(error.first, "long"),
            last=format_day(error.last, "long"),
        )
    else:
        message = _("The date could not be read; write it as YYYY-MM-DD, e.g. 2027-03-15.")
    return error_response(400, message)


def init_app(app: Flask) -> None:
    app.register_blueprint(blueprint)
    add_staff_navigation(app, "timeline.calendar_page", _l("Calendar"))
