"""A union requests dates in a real browser: live availability, confirmation, keyboard, calendar."""

from __future__ import annotations

import calendar
import datetime as dt
import re

import pytest
from babel.dates import format_date
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Locator, Page, Route, expect

from tests.browser.conftest import (
    days_ahead,
    enter_dates,
    expect_live_answer_to_settle,
    hold_via_api,
    wait_for_live_answer,
)
from tests.factories import training_day

pytestmark = pytest.mark.browser

# Each test that holds dates has its own stretch of the calendar, far from the others'.
TAKEN_DAYS = 120
SUBMITTED_DAYS = 300
KEYBOARD_DAYS = 400
SLOW_DAYS = 500
FORM_FIELDS = (
    "start end organization contact_name email phone language venue address city audience "
    "wall_metres secure_storage-0 notes"
).split()


def focused_id(page: Page) -> str:
    return page.evaluate("document.activeElement ? document.activeElement.id : ''")


def tab_to(page: Page, target: str, seen: list[str], limit: int = 40) -> None:
    """Press Tab until the element with id `target` has focus, noting every stop."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        seen.append(focused_id(page))
        if seen[-1] == target:
            return
    pytest.fail(f"#{target} was not reached with Tab; focus went through {seen}")


def fill_contact_and_venue(page: Page, *, exhibition: bool) -> None:
    """The indoor set's questions (`exhibition`), or the training's."""
    page.get_by_label("Union or organization").fill("Syndicat des cols bleus")
    page.get_by_label("Contact person").fill("Ana Pérez")
    page.get_by_label("Email").fill("ana@example.org")
    page.get_by_label("Phone").fill("514-383-2266 poste 225")
    page.get_by_label("Venue", exact=True).fill("Salle des métallos")
    page.get_by_label("Street address").fill("1601 av. De Lorimier")
    page.get_by_label("City").fill("Montréal")
    if exhibition:
        page.get_by_label("Expected audience (people)").fill("80")
        page.get_by_label("Running metres of wall available").fill("25")
        page.get_by_label("Yes").check()
    else:
        page.get_by_label("Start time").fill("09:30")
        page.get_by_label("Number of participants").fill("25")


def test_union_typing_taken_dates_sees_the_next_free_windows_and_picks_one(visitor, base_url):
    start, end = days_ahead(TAKEN_DAYS), days_ahead(TAKEN_DAYS + 4)
    for _crate in ("Caisse A", "Caisse B"):
        hold_via_api(base_url, "expo-interieure", start, end)
    # Both crates are away from two days before to two days after: the next five free
    # days start two days after the return.
    first_free = days_ahead(TAKEN_DAYS + 4 + 2 + 1 + 2)
    page = visitor("en").page
    page.goto("/book/expo-interieure")

    enter_dates(page, start, end)

    warning = page.locator("#availability [role=alert]")
    expect(warning).to_contain_text("These dates are already taken.")
    suggestions = warning.get_by_role("button")
    expect(suggestions).to_have_count(3)
    first = suggestions.first
    expect(first).to_contain_text(format_date(first_free, "long", locale="en"))

    first.click()

    window_end = first_free + dt.timedelta(days=4)
    expect(page).to_have_url(re.compile(r"/book/expo-interieure$"))  # filled in place
    expect(page.locator("#start")).to_have_value(first_free.isoformat())
    expect(page.locator("#end")).to_have_value(window_end.isoformat())


def test_union_on_a_slow_connection_gets_the_answer_for_both_dates(visitor, base_url):
    start, end = days_ahead(SLOW_DAYS), days_ahead(SLOW_DAYS + 4)
    for _crate in ("Caisse A", "Caisse B"):
        hold_via_api(base_url, "expo-interieure", start, end)
    page = visitor("en").page
    page.goto("/book/expo-interieure")
    delayed: list[Route] = []
    # The answer to the first date is still on its way when the second date is typed.
    page.route(
        "**/check?*", lambda route: delayed.append(route) if not delayed else route.continue_()
    )

    with page.expect_request("**/check?*"):
        page.get_by_label("First day").fill(start.isoformat())
    page.get_by_label("Last day").fill(end.isoformat())
    page.wait_for_timeout(200)  # the page reacts to the second date while the first answer waits
    assert len(delayed) == 1
    try:
        delayed[0].continue_()
    except PlaywrightError:
        pass  # the page gave up on that answer, which is fine: it asked again

    expect(page.locator("#availability [role=alert]")).to_contain_text(
        "These dates are already taken."
    )


@pytest.mark.parametrize("offering, days", [("expo-interieure", 5), ("formation-bd-textile", 1)])
def test_union_sending_a_complete_request_lands_on_its_private_page(visitor, offering, days):
    start = days_ahead(SUBMITTED_DAYS) if days > 1 else training_day(SUBMITTED_DAYS)
    end = start + dt.timedelta(days=days - 1)
    page = visitor("en").page
    page.goto(f"/book/{offering}")

    if days > 1:
        enter_dates(page, start, end)
    else:  # the training asks one date
        expect_live_answer_to_settle(page)
        page.locator("#start").fill(start.isoformat())
        wait_for_live_answer(page)
    expect(page.locator("#availability")).to_contain_text("These dates are free.")
    fill_contact_and_venue(page, exhibition=offering.startswith("expo"))
    page.get_by_role("button", name="Send the request").click()

    expect(page).to_have_url(re.compile(r"/bookings/[\w-]{20,}$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile(r"Request AMB-\d{4}-\d+"))
    expect(page.get_by_role("status")).to_contain_text("Your request is received")
    expect(page.locator(".status")).to_contain_text("requested")
    expect(page.locator(".details")).to_contain_text(format_date(start, "full", locale="en"))


def test_union_fills_and_sends_the_form_with_the_keyboard_alone(visitor, type_date):
    start, end = days_ahead(KEYBOARD_DAYS), days_ahead(KEYBOARD_DAYS + 3)
    page = visitor("en").page
    page.goto("/book/expo-interieure")
    seen: list[str] = []

    tab_to(page, "start", seen)
    type_date(page, start)
    tab_to(page, "end", seen)
    type_date(page, end)
    tab_to(page, "organization", seen)
    expect(page.locator("#availability")).to_contain_text("These dates are free.")
    page.keyboard.type("Syndicat des cols bleus")
    for field, text in [
        ("contact_name", "Ana Pérez"),
        ("email", "ana@example.org"),
        ("phone", "514-383-2266"),
        ("venue", "Salle des métallos"),
        ("address", "1601 av. De Lorimier"),
        ("city", "Montréal"),
        ("audience", "80"),
        ("wall_metres", "25"),
    ]:
        tab_to(page, field, seen)
        page.keyboard.type(text)
    tab_to(page, "secure_storage-0", seen)
    page.keyboard.press("Space")
    tab_to(page, "notes", seen)
    page.keyboard.type("Accès par la ruelle.")
    page.keyboard.press("Tab")
    expect(page.locator(":focus")).to_have_text("Send the request")
    page.keyboard.press("Enter")

    expect(page).to_have_url(re.compile(r"/bookings/[\w-]{20,}$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("AMB-")
    expect(page.locator(".details")).to_contain_text("Accès par la ruelle.")
    expect(page.locator(".details")).to_contain_text(format_date(start, "full", locale="en"))


def test_keyboard_users_never_land_on_the_field_left_for_bots(visitor):
    page = visitor("en").page
    page.goto("/book/expo-interieure")
    stops: list[str] = []
    for _ in range(60):
        page.keyboard.press("Tab")
        stops.append(focused_id(page))
        if page.evaluate("document.activeElement.textContent.trim()") == "Send the request":
            break

    assert "leave_empty" not in stops
    assert [field for field in FORM_FIELDS if field not in stops] == []


def month_linked(link: Locator) -> dt.date:
    """The month a calendar navigation link leads to (`?month=2027-03`), as its first day."""
    found = re.search(r"month=(\d{4})-(\d{2})", link.get_attribute("href") or "")
    assert found, "the calendar link names no month"
    return dt.date(int(found[1]), int(found[2]), 1)


def month_title(first: dt.date) -> str:
    return format_date(first, "LLLL yyyy", locale="en")


def next_month_link(page: Page) -> Locator:
    return page.locator("#calendar .calendar-nav a", has_text="→")


def test_union_browses_the_calendar_month_by_month_without_reloading_the_page(visitor):
    page = visitor("en").page
    page.goto("/offerings/expo-interieure")
    title = page.locator("#calendar-title")
    first_shown = title.inner_text()
    next_month = month_linked(next_month_link(page))
    page.evaluate("window.sameDocument = true")

    next_month_link(page).click()

    expect(title).to_have_text(month_title(next_month))
    expect(page).to_have_url(re.compile(rf"\?month={next_month:%Y-%m}$"))
    assert page.evaluate("window.sameDocument") is True
    days_in_month = calendar.monthrange(next_month.year, next_month.month)[1]
    expect(page.locator("#calendar td.day")).to_have_count(days_in_month)
    expect(page.locator("#calendar")).to_have_count(1)

    page.go_back()

    expect(title).to_have_text(first_shown)


def test_keyboard_user_keeps_their_place_while_paging_through_months(visitor):
    page = visitor("en").page
    page.goto("/offerings/expo-interieure")
    next_month = month_linked(next_month_link(page))
    month_after = (next_month + dt.timedelta(days=31)).replace(day=1)
    next_month_link(page).focus()

    page.keyboard.press("Enter")
    expect(page.locator("#calendar-title")).to_have_text(month_title(next_month))
    page.keyboard.press("Enter")

    expect(page.locator("#calendar-title")).to_have_text(month_title(month_after))


def test_union_without_javascript_still_browses_the_calendar(visitor):
    page = visitor("en", javascript=False).page
    page.goto("/offerings/expo-interieure")
    next_month = month_linked(next_month_link(page))

    next_month_link(page).click()

    expect(page).to_have_url(re.compile(rf"\?month={next_month:%Y-%m}$"))
    expect(page.locator("#calendar-title")).to_have_text(month_title(next_month))
    expect(page.locator("#calendar a", has_text="←")).to_be_visible()
