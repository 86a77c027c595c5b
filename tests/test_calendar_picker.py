"""A union reads the calendar and picks its dates on it: each kind of day is told apart (held,
booked, transit, closed), the days chosen travel in links that work without JavaScript, the
month is one step away, and the home page says when each offering is free, stretch by stretch."""

from __future__ import annotations

import dataclasses
import datetime as dt
import html
import re

import pytest

from booking import availability
from booking.availability import (
    DayKind,
    DayReason,
    Stretch,
    day_states,
    earliest_start,
    free_stretches,
    latest_start,
)
from booking.catalog import offering_by_slug
from booking.decisions import decide
from booking.models import Blackout
from booking.month import month_view
from booking.status import BookingStatus
from tests.factories import days_from_today, hold

D = dt.timedelta
EN = {"Accept-Language": "en"}
OUTDOOR = "expo-exterieure"  # one set; 3 days of transit before and after; 7 days at least
INDOOR = "expo-interieure"  # two sets; 2 days before and after; 3 days at least
TRAINING = "formation-bd-textile"  # two trainer teams; one day; closed on holidays


def kinds(session, slug: str, first: dt.date, last: dt.date, today: dt.date) -> list[DayKind]:
    return [
        day.kind for day in day_states(session, offering_by_slug(session, slug), first, last, today)
    ]


def blackout(session, slug: str, first: dt.date, last: dt.date) -> None:
    offering = offering_by_slug(session, slug)
    session.add(
        Blackout(offering_id=offering.id, start_date=first, end_date=last, reason="Réparation")
    )
    session.commit()


def confirm(session, reference: str) -> None:
    decide(
        session,
        reference,
        BookingStatus.CONFIRMED,
        "",
        "desk@centre.example",
        dt.datetime.now(dt.UTC),
    )
    session.commit()


def cell(page: str, day: dt.date) -> str:
    """The calendar's cell of one day, as the page draws it."""
    found = re.search(rf'<td [^>]*data-date="{day.isoformat()}"[^>]*>.*?</td>', page, re.S)
    assert found, f"no cell for {day}"
    return found[0]


def link_of(page: str, day: dt.date) -> str:
    """Where a day's link leads (the day must be one that can be chosen)."""
    found = re.search(r'<a class="pick"[^>]*href="([^"]+)"', cell(page, day))
    assert found, f"{day} has no link"
    return html.unescape(found[1])


def request_link(page: str) -> str:
    found = re.search(r'<a class="button" id="request-dates" href="([^"]+)"', page)
    assert found
    return html.unescape(found[1])


# -- what each day is ------------------------------------------------------------------------


def test_union_sees_a_requests_own_days_held_and_the_days_around_it_as_transit(session, today):
    start = days_from_today(120)
    hold(session, offering=OUTDOOR, start=start, end=start + D(6))

    shown = kinds(session, OUTDOOR, start - D(7), start + D(13), today)

    # Three days of transit on each side of the request, and three more on each side that a
    # booking of ours would need for its own transit: 7 held days, 12 transit, not 19 held.
    FREE, HELD, BUFFER = DayKind.FREE, DayKind.HELD, DayKind.BUFFER
    assert shown == [FREE] + [BUFFER] * 6 + [HELD] * 7 + [BUFFER] * 6 + [FREE]


def test_a_confirmed_booking_shows_booked_and_its_transit_stays_transit(session, today):
    start = days_from_today(150)
    held = hold(session, offering=OUTDOOR, start=start, end=start + D(6))
    confirm(session, held.booking.reference)

    shown = kinds(session, OUTDOOR, start - D(1), start + D(7), today)

    assert shown == [DayKind.BUFFER] + [DayKind.BOOKED] * 7 + [DayKind.BUFFER]


def test_with_two_sets_a_day_is_free_while_one_set_is_and_held_before_booked(session, today):
    start = days_from_today(90)
    first = hold(session, offering=INDOOR, start=start, end=start + D(4))
    assert kinds(session, INDOOR, start, start, today) == [DayKind.FREE]

    hold(session, offering=INDOOR, start=start, end=start + D(4))
    confirm(session, first.booking.reference)

    # One set booked, the other held: the day may still free up, so it says held.
    assert kinds(session, INDOOR, start, start, today) == [DayKind.HELD]


def test_a_blackout_is_closed_and_the_days_a_set_needs_to_come_back_are_transit(session, today):
    closed = days_from_today(200)
    blackout(session, OUTDOOR, closed, closed + D(1))

    days = day_states(
        session, offering_by_slug(session, OUTDOOR), closed - D(4), closed + D(5), today
    )

    assert [day.kind for day in days] == (
        [DayKind.FREE]
        + [DayKind.BUFFER] * 3
        + [DayKind.CLOSED] * 2
        + [DayKind.BUFFER] * 3
        + [DayKind.FREE]
    )
    assert [day.reason for day in days][4] == DayReason.CLOSED
    assert not any(day.bookable for day in days[1:-1])


def test_the_training_is_closed_on_christmas_and_says_why(app, session, today):
    christmas = dt.date(today.year + 1, 12, 25)
    with app.test_request_context(headers=EN):
        [day] = day_states(
            session, offering_by_slug(session, TRAINING), christmas, christmas, today
        )
    assert (day.kind, day.reason, day.bookable) == (DayKind.CLOSED, DayReason.CLOSED, False)
    assert day.closed_for == "Christmas Day"


def test_a_free_day_in_a_gap_too_short_cannot_be_chosen(session, today):
    start = days_from_today(300)
    hold(session, offering=OUTDOOR, start=start, end=start + D(6))
    # The next request leaves 7 days between the two: room to travel, none for a booking.
    hold(session, offering=OUTDOOR, start=start + D(6 + 14), end=start + D(6 + 20))

    [middle] = day_states(
        session, offering_by_slug(session, OUTDOOR), start + D(13), start + D(13), today
    )

    assert (middle.kind, middle.reason, middle.bookable) == (
        DayKind.FREE,
        DayReason.GAP_TOO_SHORT,
        False,
    )


def test_an_offering_of_one_length_offers_only_the_days_it_can_start_on(session, today):
    two_days = dataclasses.replace(
        offering_by_slug(session, TRAINING), min_days=2, max_days=2, closed_on_holidays=False
    )
    closed = days_from_today(100).replace(day=15)
    blackout(session, TRAINING, closed, closed)

    view = month_view(session, two_days, closed.replace(day=1), today)

    days = {day.date: day for week in view.weeks for day in week if day}
    before, last = days[closed - D(2)], days[closed - D(1)]
    assert view.pickable(before) and not view.pickable(last)
    assert last.bookable  # it can end a booking, not start one
    assert view.reason(last) == DayReason.GAP_TOO_SHORT and view.unavailable(last)


# -- free soon -------------------------------------------------------------------------------


def test_free_soon_is_one_open_stretch_when_nothing_is_booked(session, today):
    outdoor = offering_by_slug(session, OUTDOOR)
    assert free_stretches(session, outdoor, today) == [
        Stretch(earliest_start(outdoor, today), None)
    ]


def test_free_soon_stops_where_a_requests_transit_begins_and_starts_again_after(session, today):
    outdoor = offering_by_slug(session, OUTDOOR)
    opens = earliest_start(outdoor, today)
    start = opens + D(40)
    hold(session, offering=OUTDOOR, start=start, end=start + D(6))

    # Up to the day before the transit our own booking would need, and from the day after it.
    assert free_stretches(session, outdoor, today) == [
        Stretch(opens, start - D(7)),
        Stretch(start + D(13), None),
    ]


def test_free_soon_skips_a_gap_shorter_than_the_shortest_booking(session, today):
    outdoor = offering_by_slug(session, OUTDOOR)
    opens = earliest_start(outdoor, today)
    start = opens + D(40)
    hold(session, offering=OUTDOOR, start=start, end=start + D(6))
    hold(session, offering=OUTDOOR, start=start + D(20), end=start + D(26))

    stretches = free_stretches(session, outdoor, today)

    assert stretches == [Stretch(opens, start - D(7)), Stretch(start + D(33), None)]


def test_free_soon_around_blackouts_lists_the_first_three_stretches_from_a_short_read(
    session, today, monkeypatch
):
    outdoor = offering_by_slug(session, OUTDOOR)
    opens = earliest_start(outdoor, today)
    for offset in (10, 25, 40):
        blackout(session, OUTDOOR, opens + D(offset), opens + D(offset))
    reads = []
    real = availability.blocks_by_unit
    monkeypatch.setattr(
        availability, "blocks_by_unit", lambda *args: reads.append(args) or real(*args)
    )

    stretches = free_stretches(session, outdoor, today)

    # A booking's transit may not meet a closure: 3 days on each side stay out.
    assert stretches == [
        Stretch(opens, opens + D(6)),
        Stretch(opens + D(14), opens + D(21)),
        Stretch(opens + D(29), opens + D(36)),
    ]
    assert len(reads) == 1  # the first months held them: the years after were not read


def test_free_soon_joins_two_sets_only_where_every_day_stays_free(session, today):
    indoor = offering_by_slug(session, INDOOR)
    opens = earliest_start(indoor, today)
    x = opens + D(30)
    hold(session, offering=INDOOR, start=x, end=x + D(4))  # the first set
    hold(session, offering=INDOOR, start=x + D(5), end=x + D(9))  # the second: the first is away

    # The second set covers up to x (its request starts at x + 5, after 2 + 2 days of
    # transit); the first is free again from x + 9; no set can take x + 1 to x + 8.
    assert free_stretches(session, indoor, today) == [Stretch(opens, x), Stretch(x + D(9), None)]


def test_free_soon_ends_before_a_closure_that_runs_past_the_search(session, today):
    outdoor = offering_by_slug(session, OUTDOOR)
    opens = earliest_start(outdoor, today)
    blackout(session, OUTDOOR, opens + D(100), latest_start(today))

    assert free_stretches(session, outdoor, today) == [Stretch(opens, opens + D(96))]


def test_home_page_says_free_from_a_day_on_and_opens_the_form_on_that_month(client, session):
    start = days_from_today(45)
    hold(session, offering=OUTDOOR, start=start, end=start + D(6))
    page = client.get("/", headers=EN).get_data(as_text=True)
    after = start + D(13)

    assert f"from {after:%B} {after.day}, {after.year} on" in page
    assert f'href="/book/{OUTDOOR}?month={after:%Y-%m}"' in page
    assert "Free soon" in page


# -- the offering page -----------------------------------------------------------------------


def test_offering_page_draws_each_kind_with_its_words_and_never_closed_over_held(client, session):
    start = days_from_today(70)
    hold(session, offering=OUTDOOR, start=start, end=start + D(6))
    page = client.get(f"/offerings/{OUTDOOR}?month={start:%Y-%m}", headers=EN).get_data(
        as_text=True
    )

    held, transit = cell(page, start), cell(page, start - D(1))
    assert 'class="day day-held"' in held and ">held<" in held
    assert 'class="day day-buffer"' in transit and ">transit<" in transit
    assert "closed" not in held


def test_the_legend_says_what_transit_days_are_and_no_longer_that_they_stay_free(client):
    page = client.get(f"/offerings/{OUTDOOR}", headers=EN).get_data(as_text=True)
    legend = page[page.index('class="calendar-legend"') :]
    for words in ("Held", "Booked", "Transit", "Closed", "Chosen"):
        assert f"<strong>{words}:</strong>" in legend
    assert "3 days before it and 3 days after it are kept for transit and set-up" in legend
    assert "stay free for transit" not in page


def test_the_training_page_names_trainer_teams_and_says_nothing_of_transit(client):
    page = client.get(f"/offerings/{TRAINING}", headers=EN).get_data(as_text=True)
    assert "2 trainer teams" in page
    assert "copies" not in page
    assert "transit" not in page.lower()


@pytest.mark.parametrize(
    "slug, words", [(INDOOR, "2 sets available"), (OUTDOOR, "1 set available")]
)
def test_the_exhibition_pages_name_their_sets(client, slug, words):
    assert words in client.get(f"/offerings/{slug}", headers=EN).get_data(as_text=True)


def test_union_without_javascript_picks_a_first_and_a_last_day_through_links(client):
    outdoor = "/offerings/" + OUTDOOR
    first = days_from_today(400).replace(day=3)
    last = first + D(9)
    month = f"{first:%Y-%m}"
    page = client.get(f"{outdoor}?month={month}", headers=EN).get_data(as_text=True)
    assert request_link(page) == f"/book/{OUTDOOR}?month={month}"

    to_first = link_of(page, first)
    assert to_first == f"?month={month}&start={first}"
    page = client.get(outdoor + to_first, headers=EN).get_data(as_text=True)
    assert 'aria-selected="true"' in cell(page, first)
    to_last = link_of(page, last)
    assert to_last == f"?month={month}&start={first}&end={last}"

    page = client.get(outdoor + to_last, headers=EN).get_data(as_text=True)
    assert 'aria-selected="true"' in cell(page, last)
    assert request_link(page) == f"/book/{OUTDOOR}?month={month}&start={first}&end={last}"
    assert "Request these dates" in page
    # Both days chosen: the next click starts again, from the day clicked.
    assert link_of(page, first + D(2)) == f"?month={month}&start={first + D(2)}"
    # The months carry the days chosen, so paging loses nothing.
    next_month = re.search(r'<a id="calendar-next" class="calendar-step" href="([^"]+)"', page)
    assert next_month and f"start={first}&amp;end={last}" in next_month[1]


def test_one_click_chooses_the_whole_training_day(client):
    day = days_from_today(410)
    month = f"{day:%Y-%m}"
    page = client.get(f"/offerings/{TRAINING}?month={month}", headers=EN).get_data(as_text=True)
    assert link_of(page, day) == f"?month={month}&start={day}&end={day}"


def test_a_taken_day_or_one_too_soon_is_no_link(client, session, today):
    start = days_from_today(60)
    hold(session, offering=OUTDOOR, start=start, end=start + D(6))
    page = client.get(f"/offerings/{OUTDOOR}?month={start:%Y-%m}", headers=EN).get_data(
        as_text=True
    )
    assert "<a " not in cell(page, start)
    page = client.get(f"/offerings/{OUTDOOR}?month={today:%Y-%m}", headers=EN).get_data(
        as_text=True
    )
    assert "<a " not in cell(page, today) and ">too soon<" in cell(page, today)
    assert 'class="day day-unavailable day-too-soon"' in cell(page, today)
    [yesterday] = day_states(
        session, offering_by_slug(session, OUTDOOR), today - D(1), today - D(1), today
    )
    assert (yesterday.reason, yesterday.bookable) == (DayReason.PAST, False)


def test_june_of_next_year_is_one_step_away(client, today):
    june = f"{today.year + 1}-06"
    page = client.get(f"/offerings/{OUTDOOR}", headers=EN).get_data(as_text=True)
    jump = page[page.index('<form class="calendar-jump"') :]
    jump = jump[: jump.index("</form>")]
    assert 'method="get"' in jump and 'name="month"' in jump
    assert f'<option value="{june}">June {today.year + 1}</option>' in jump

    shown = client.get(f"/offerings/{OUTDOOR}?month={june}", headers=EN)
    assert f"June {today.year + 1}</h2>" in shown.get_data(as_text=True)


@pytest.mark.parametrize(
    "query, message",
    [
        ("month=2099-01", "There is no calendar for that month"),
        ("month=next", "There is no calendar for that month"),
        ("month=2027-13", "There is no calendar for that month"),
        ("month=%D9%A2%D9%A0%D9%A2%D9%A7-%D9%A0%D9%A1", "There is no calendar for that month"),
        ("start=someday", "The chosen days could not be read"),
        ("start=2027-02-30", "The chosen days could not be read"),
        ("start=9999-12-31", "The chosen days could not be read"),
        ("start=0001-01-01", "The chosen days could not be read"),
        (f"end={dt.date.today() + D(100)}", "The chosen days could not be read"),
    ],
)
def test_a_calendar_address_that_cannot_be_read_is_a_400_that_says_why(client, query, message):
    answer = client.get(f"/offerings/{OUTDOOR}?{query}", headers=EN)
    assert answer.status_code == 400
    page = answer.get_data(as_text=True)
    assert message in page
    assert 'id="calendar"' in page  # the calendar is there to start again from


def test_the_forms_calendar_pages_months_for_htmx_with_the_days_typed(client):
    first = days_from_today(420)
    answer = client.get(
        f"/book/{OUTDOOR}/calendar?show_month={first:%Y-%m}&start={first}&end={first + D(7)}",
        headers={**EN, "HX-Request": "true"},
    )
    fragment = answer.get_data(as_text=True)
    assert answer.status_code == 200
    assert fragment.lstrip().startswith('<section id="calendar"')
    assert f'name="pick_day" value="{first}"' in fragment
    assert f'formaction="/book/{OUTDOOR}/form"' in fragment
    assert 'aria-selected="true"' in cell(fragment, first)
    assert re.search(r'<button type="submit" id="calendar-next"[^>]*name="show_month"', fragment)
    # What is typed is the form's to check: a date being typed never stops the paging.
    typed = client.get(f"/book/{OUTDOOR}/calendar?show_month={first:%Y-%m}&start=20")
    assert typed.status_code == 200
    assert client.get(f"/book/{OUTDOOR}/calendar?show_month=2099-01").status_code == 400
