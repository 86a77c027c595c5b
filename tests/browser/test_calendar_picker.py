"""A union picks its dates on the month calendar in a real browser: by clicking and by keyboard,
on the offering page and in the request form, with and without JavaScript; jumps to a month;
and tells held, booked, transit and closed days apart by more than their colour."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from babel.dates import format_date
from playwright.sync_api import Page, expect

from tests.browser.conftest import (
    days_ahead,
    expect_live_answer_to_settle,
    hold_via_api,
    sign_in_as_staff,
    wait_for_live_answer,
)
from tests.browser.test_accessibility import assert_no_axe_violations

pytestmark = pytest.mark.browser

# Held and booked dates of the outdoor set (its own stretch of the shared calendar), and the
# days picked on the indoor set and the training (picked, never sent).
HELD_DAYS = 905
BOOKED_DAYS = 925
PICKED_DAYS = 945
D = dt.timedelta
INDOOR = "expo-interieure"
OUTDOOR = "expo-exterieure"
TRAINING = "formation-bd-textile"


def picked_days() -> tuple[dt.date, dt.date]:
    """A first and a last day in one month, well away from every other test's bookings."""
    first = days_ahead(PICKED_DAYS).replace(day=10)
    return first, first + D(5)


def month_of(day: dt.date) -> str:
    return f"{day:%Y-%m}"


def title_of(day: dt.date) -> str:
    return format_date(day, "LLLL yyyy", locale="en")


def day_control(page: Page, date: dt.date | str):  # type: ignore[no-untyped-def]
    """A day's link or button on the calendar."""
    return page.locator(f'#calendar td[data-date="{date}"] .pick')


def focused_day(page: Page) -> str:
    return page.evaluate("document.activeElement.closest('td')?.dataset.date ?? ''")


def chosen_days(page: Page) -> list[str]:
    return page.locator('#calendar td[aria-selected="true"]').evaluate_all(
        "cells => cells.map(cell => cell.dataset.date)"
    )


def days_between(first: dt.date, last: dt.date) -> list[str]:
    return [(first + D(n)).isoformat() for n in range((last - first).days + 1)]


def day_links(page: Page) -> dict[str, str]:
    """Where each day's link leads, as the page says it now."""
    return page.locator("#calendar a.pick").evaluate_all(
        "links => Object.fromEntries(links.map(a => [a.closest('td').dataset.date, a.href]))"
    )


def test_union_clicks_a_first_and_a_last_day_and_requests_them(visitor, base_url):
    first, last = picked_days()
    month = month_of(first)
    tab = visitor("en")
    page = tab.page
    page.goto(f"/offerings/{INDOOR}?month={month}")
    page.evaluate("window.sameDocument = true")

    day_control(page, first).click()
    expect(page.locator("#calendar-status")).to_contain_text("Now choose your last day")
    day_control(page, last).click()

    assert chosen_days(page) == days_between(first, last)
    expect(page.locator("#calendar-status")).to_have_text(
        f"Chosen: {format_date(first, 'long', locale='en')} to "
        f"{format_date(last, 'long', locale='en')}."
    )
    request = page.locator("#request-dates")
    expect(request).to_have_text("Request these dates")
    expect(request).to_have_attribute(
        "href", f"/book/{INDOOR}?month={month}&start={first}&end={last}"
    )
    # A reload (or a link copied from the address bar) keeps the days.
    expect(page).to_have_url(
        f"{base_url}/offerings/{INDOOR}?month={month}&start={first}&end={last}"
    )
    assert page.evaluate("window.sameDocument") is True
    assert_no_axe_violations(page)

    # Paging the months keeps the days chosen, and the link follows the month shown.
    said = page.locator("#calendar-status").inner_text()
    next_month = month_of(first.replace(day=28) + D(4))
    page.locator("#calendar-next").click()
    expect(page.locator("#calendar-title")).to_have_text(title_of(first.replace(day=28) + D(4)))
    expect(page.locator("#calendar-status")).to_have_text(said)
    expect(page).to_have_url(re.compile(rf"\?month={next_month}&start={first}&end={last}$"))
    expect(request).to_have_attribute(
        "href", f"/book/{INDOOR}?month={next_month}&start={first}&end={last}"
    )
    page.locator("#calendar-previous").click()
    expect(page.locator("#calendar-title")).to_have_text(title_of(first))
    assert chosen_days(page) == days_between(first, last)

    request.click()

    expect(page.locator("#start")).to_have_value(first.isoformat())
    expect(page.locator("#end")).to_have_value(last.isoformat())
    expect(page.locator("#calendar-title")).to_have_text(title_of(first))
    expect(page.locator("#availability")).to_contain_text("These dates are free.")
    assert chosen_days(page) == days_between(first, last)
    assert tab.console_errors == []


def test_the_script_picks_exactly_as_the_links_without_it_do(visitor):
    first, last = picked_days()
    month = month_of(first)
    page = visitor("en").page
    page.goto(f"/offerings/{TRAINING}?month={month}")
    training_day = dt.date.fromisoformat(
        page.locator("#calendar a.pick").last.evaluate("link => link.closest('td').dataset.date")
    )
    for slug, clicks in ((INDOOR, [first]), (INDOOR, [first, last]), (TRAINING, [training_day])):
        page.goto(f"/offerings/{slug}?month={month}")
        for day in clicks:
            day_control(page, day).click()
        by_script = day_links(page)
        chosen = re.search(r"\?(.*)$", page.url)
        assert chosen
        page.goto(f"/offerings/{slug}?{chosen[1]}")
        assert day_links(page) == by_script, f"{slug} after {clicks}"


def test_keyboard_user_picks_the_days_in_the_form_and_hears_they_are_free(visitor):
    first, last = picked_days()
    tab = visitor("en")
    page = tab.page
    page.goto(f"/book/{INDOOR}?month={month_of(first)}")
    page.locator("#calendar-show").focus()

    page.keyboard.press("Tab")
    focused = focused_day(page)
    assert focused, "Tab after the month's button does not reach a day"
    assert page.evaluate(
        """() => { const day = document.activeElement;
                   return day.matches(':focus-visible')
                          && getComputedStyle(day).outlineStyle === 'solid'
                          && parseFloat(getComputedStyle(day).outlineWidth) >= 2; }"""
    ), "the focused day shows no focus ring"
    for _ in range((first - dt.date.fromisoformat(focused)).days):
        page.keyboard.press("ArrowRight")
    assert focused_day(page) == first.isoformat()
    expect_live_answer_to_settle(page)
    page.keyboard.press("Enter")
    wait_for_live_answer(page)  # as a person does: the first answer comes before the last day
    expect(page.locator("#start")).to_have_value(first.isoformat())
    expect(page.locator("#end")).to_have_value("")
    for _ in range((last - first).days):
        page.keyboard.press("ArrowRight")
    page.keyboard.press("Space")

    expect(page.locator("#end")).to_have_value(last.isoformat())
    expect(page.locator("#availability")).to_contain_text("These dates are free.")
    assert chosen_days(page) == days_between(first, last)
    assert focused_day(page) == last.isoformat()
    assert tab.console_errors == []


def test_one_click_on_a_training_day_fills_its_date_and_the_live_check_answers(visitor):
    anchor = days_ahead(PICKED_DAYS).replace(day=17)
    tab = visitor("en")
    page = tab.page
    page.goto(f"/book/{TRAINING}?month={month_of(anchor)}")
    days = page.locator("#calendar .pick").evaluate_all(
        "days => days.map(d => d.closest('td').dataset.date)"
    )
    day = next(d for d in days if d >= anchor.isoformat())

    day_control(page, day).click()

    expect(page.locator("#start")).to_have_value(day)
    expect(page.locator("#availability")).to_contain_text("These dates are free.")
    assert chosen_days(page) == [day]
    assert tab.console_errors == []


def test_june_of_next_year_is_one_step_away_on_the_page_and_in_the_form(visitor, today):
    june = dt.date(today.year + 1, 6, 1)
    page = visitor("en").page
    page.goto(f"/offerings/{OUTDOOR}")
    page.evaluate("window.sameDocument = true")

    page.get_by_label("Go to the month").select_option(label=title_of(june))
    page.get_by_role("button", name="Show").click()

    expect(page.locator("#calendar-title")).to_have_text(title_of(june))
    expect(page).to_have_url(re.compile(rf"\?month={month_of(june)}$"))
    assert page.evaluate("window.sameDocument") is True

    page.goto(f"/book/{OUTDOOR}")
    page.get_by_label("Union or organization").fill("Syndicat des cols bleus")
    page.evaluate("window.sameDocument = true")
    page.get_by_label("Go to the month").select_option(label=title_of(june))
    page.get_by_role("button", name="Show").click()

    expect(page.locator("#calendar-title")).to_have_text(title_of(june))
    page.locator("#calendar-next").click()
    expect(page.locator("#calendar-title")).to_have_text(title_of(june.replace(month=7)))
    expect(page.get_by_label("Union or organization")).to_have_value("Syndicat des cols bleus")
    assert page.evaluate("window.sameDocument") is True


def background(page: Page, selector: str) -> str:
    return page.locator(selector).first.evaluate(
        "el => getComputedStyle(el).backgroundColor + ' ' + getComputedStyle(el).backgroundImage"
    )


def test_held_booked_transit_and_closed_days_each_have_their_look_and_words(
    visitor, base_url, staff_email, today
):
    held = days_ahead(HELD_DAYS)
    hold_via_api(base_url, OUTDOOR, held, held + D(6))
    booked = days_ahead(BOOKED_DAYS)
    reference = hold_via_api(base_url, OUTDOOR, booked, booked + D(6), language="en")["reference"]
    page = visitor("en").page
    sign_in_as_staff(page, staff_email)
    page.locator("li.pending", has_text=reference).get_by_role(
        "button", name=f"Approve {reference}"
    ).click()
    expect(page.locator("li.pending", has_text=reference)).to_contain_text("confirmed")

    looks, words = {}, {}
    for kind, slug, day in (
        ("held", OUTDOOR, held),
        ("transit", OUTDOOR, held - D(1)),
        ("booked", OUTDOOR, booked),
        ("closed", TRAINING, dt.date(today.year + 1, 12, 25)),  # Christmas
        ("free", OUTDOOR, booked + D(20)),
    ):
        page.goto(f"/offerings/{slug}?month={month_of(day)}")
        cell = f'#calendar td[data-date="{day}"]'
        looks[kind] = background(page, cell)
        words[kind] = page.locator(f"{cell} .s").inner_text()
        swatch = "buffer" if kind == "transit" else kind
        assert background(page, f".calendar-legend .swatch.day-{swatch}") == looks[kind], kind

    assert words == {kind: kind for kind in looks}
    assert len(set(looks.values())) == len(looks), looks
    # Each has a pattern of its own, not a colour alone (free is the plain one).
    assert all("gradient" in looks[kind] for kind in ("held", "transit", "booked", "closed"))
    legend = page.locator(".calendar-legend").inner_text()
    for name in ("Free:", "Held:", "Booked:", "Closed:", "Chosen:"):
        assert name in legend
    page.goto(f"/offerings/{OUTDOOR}")
    assert "Transit:" in page.locator(".calendar-legend").inner_text()


def test_union_without_javascript_picks_days_through_links_and_buttons(visitor, base_url):
    first, last = picked_days()
    month = month_of(first)
    tab = visitor("en", javascript=False)
    page = tab.page
    page.goto(f"/offerings/{INDOOR}?month={month}")

    day_control(page, first).click()
    expect(page).to_have_url(f"{base_url}/offerings/{INDOOR}?month={month}&start={first}")
    day_control(page, last).click()
    expect(page).to_have_url(
        f"{base_url}/offerings/{INDOOR}?month={month}&start={first}&end={last}"
    )
    assert chosen_days(page) == days_between(first, last)
    page.get_by_role("link", name="Request these dates").click()

    expect(page).to_have_url(f"{base_url}/book/{INDOOR}?month={month}&start={first}&end={last}")
    expect(page.locator("#start")).to_have_value(first.isoformat())
    expect(page.locator("#end")).to_have_value(last.isoformat())
    expect(page.locator("#calendar-title")).to_have_text(title_of(first))

    # In the form, the calendar's buttons send the whole form: nothing typed is lost.
    page.get_by_label("Union or organization").fill("Syndicat des cols bleus")
    day_control(page, last).click()  # both days were set: this starts again from it
    expect(page.locator("#start")).to_have_value(last.isoformat())
    expect(page.locator("#end")).to_have_value("")
    day_control(page, last + D(3)).click()
    expect(page.locator("#end")).to_have_value((last + D(3)).isoformat())
    assert chosen_days(page) == days_between(last, last + D(3))
    page.get_by_label("Go to the month").select_option(label=title_of(first + D(31)))
    page.get_by_role("button", name="Show").click()
    expect(page.locator("#calendar-title")).to_have_text(title_of(first + D(31)))
    expect(page.get_by_label("Union or organization")).to_have_value("Syndicat des cols bleus")
    expect(page.locator("#start")).to_have_value(last.isoformat())
