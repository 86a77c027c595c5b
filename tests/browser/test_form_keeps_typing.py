"""A union never retypes anything on the request form, in a real browser, with and without
JavaScript: a suggested window fills the dates and leaves the rest, the language switch keeps
the form, the error summary takes focus and leads to each field, the required fields say so,
and the live answer is still there after a refused form."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from babel.dates import format_date
from playwright.sync_api import Page, expect

from tests.browser.conftest import days_ahead, enter_dates, hold_via_api

pytestmark = pytest.mark.browser

FORM = "/book/expo-interieure"
# Each test that holds dates has its own stretch of the calendar (the form's: 975-1040).
SUGGESTION_DAYS = {True: 975, False: 995}
FREE_DAYS = 1020  # typed, never held: the form is refused for another field
AXE = Axe()

# What a union typed besides the dates, by input id (the indoor set's questions).
TYPED = {
    "organization": "Syndicat des cols bleus",
    "contact_name": "Ana Pérez",
    "email": "ana@example.org",
    "phone": "514 555-0199 poste 224",
    "venue": "Salle des métallos",
    "address": "1601 av. De Lorimier",
    "city": "Montréal",
    "audience": "80",
    "wall_metres": "25",
    "notes": "Accès par la ruelle, porte verte.",
}


def type_everything(page: Page, **changes: str) -> dict[str, str]:
    answers = {**TYPED, **changes}
    for field, text in answers.items():
        page.locator(f"#{field}").fill(text)
    page.locator("#secure_storage-0").check()
    page.locator("#language").select_option("en")
    return answers


def expect_everything_kept(page: Page, answers: dict[str, str]) -> None:
    for field, text in answers.items():
        expect(page.locator(f"#{field}")).to_have_value(text)
    expect(page.locator("#secure_storage-0")).to_be_checked()
    expect(page.locator("#language")).to_have_value("en")


def hold_both_sets(base_url: str, start: dt.date, end: dt.date) -> None:
    for _set in ("A", "B"):
        hold_via_api(base_url, "expo-interieure", start, end)


def assert_no_axe_violations(page: Page) -> None:
    results = AXE.run(page)
    assert results.violations_count == 0, results.generate_report()


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_union_choosing_a_suggested_window_keeps_every_other_field(visitor, base_url, javascript):
    start = days_ahead(SUGGESTION_DAYS[javascript])
    end = start + dt.timedelta(days=4)
    hold_both_sets(base_url, start, end)
    page = visitor("en", javascript=javascript).page
    page.goto(FORM)
    answers = type_everything(page)
    if javascript:
        page.evaluate("window.sameDocument = true")
        enter_dates(page, start, end)
    else:
        # Without JavaScript the answer comes with the form sent back: already taken.
        page.locator("#start").fill(start.isoformat())
        page.locator("#end").fill(end.isoformat())
        page.get_by_role("button", name="Send the request").click()
        expect(page.locator("#form-problem")).to_contain_text("Those dates are already taken.")
    suggestion = page.locator("#availability button[name=use_window]").first
    expect(suggestion).to_be_visible()
    first, last = (suggestion.get_attribute("value") or "").split("/")

    suggestion.click()

    expect(page.locator("#start")).to_have_value(first)
    expect(page.locator("#end")).to_have_value(last)
    expect(page.locator("#availability")).to_contain_text("These dates are free.")
    expect_everything_kept(page, answers)
    if javascript:
        assert page.evaluate("window.sameDocument") is True  # filled in place, no reload
        expect(page).to_have_url(re.compile(rf"{FORM}$"))
    else:  # the form drawn again opens its calendar on the window's month
        expect(page.locator("#calendar-title")).to_have_text(
            format_date(dt.date.fromisoformat(first), "LLLL yyyy", locale="en")
        )


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_union_switching_language_keeps_every_field(visitor, javascript):
    start = days_ahead(FREE_DAYS)
    page = visitor("fr", javascript=javascript).page
    page.goto(FORM)
    page.locator("#start").fill(start.isoformat())
    page.locator("#end").fill((start + dt.timedelta(days=3)).isoformat())
    answers = type_everything(page)

    page.locator("header").get_by_role("button", name="English").click()

    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=1)).to_have_text("Request dates")
    expect(page.locator("#start")).to_have_value(start.isoformat())
    expect_everything_kept(page, answers)
    back = page.locator("header").get_by_role("button", name="Français")
    expect(back).to_have_attribute("lang", "fr")
    if javascript:  # axe runs in the page: not without JavaScript
        assert_no_axe_violations(page)
    # The choice holds for the next pages, as after the header's link.
    page.goto("/")
    expect(page.locator("html")).to_have_attribute("lang", "en")


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_keyboard_user_lands_on_the_error_summary_and_follows_it_to_the_field(visitor, javascript):
    start = days_ahead(FREE_DAYS)
    page = visitor("en", javascript=javascript).page
    page.goto(FORM)
    page.locator("#start").fill(start.isoformat())
    page.locator("#end").fill((start + dt.timedelta(days=3)).isoformat())
    type_everything(page, email="ana@", organization="")

    # Enter in a field sends the request (not the language switch or a calendar day).
    page.locator("#city").press("Enter")

    summary = page.locator("#error-summary")
    expect(summary).to_be_focused()
    links = summary.get_by_role("link")
    expect(links).to_have_count(2)
    expect(links.nth(0)).to_have_text("Union or organization: This field is required.")
    expect(links.nth(1)).to_contain_text("Email:")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    expect(links.nth(1)).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#email")).to_be_focused()
    expect(page.locator("#email")).to_have_value("ana@")
    page.keyboard.press("End")
    page.keyboard.type("example.org")  # straight into the field
    expect(page.locator("#email")).to_have_value("ana@example.org")
    expect(page.locator("#notes")).to_have_value(TYPED["notes"])
    if javascript:  # axe runs in the page: not without JavaScript
        assert_no_axe_violations(page)


def test_required_fields_are_marked_for_everyone_to_see(visitor):
    page = visitor("en").page
    page.goto(FORM)

    expect(page.get_by_text("Fields marked (required) must be filled in")).to_be_visible()
    email = page.locator(".field", has=page.locator("#email"))
    expect(email.locator(".required-mark")).to_have_text("(required)")
    expect(email.locator(".required-mark")).to_be_visible()
    expect(page.locator("#email")).to_have_attribute("required", "")
    notes = page.locator(".field", has=page.locator("#notes"))
    expect(notes.locator(".required-mark")).to_have_count(0)
    storage = page.locator("fieldset.field", has=page.locator("#secure_storage-0"))
    expect(storage.locator("legend .required-mark")).to_be_visible()


def test_the_live_answer_is_still_there_after_a_refused_form(visitor):
    start = days_ahead(FREE_DAYS + 10)
    end = start + dt.timedelta(days=4)
    page = visitor("en").page
    page.goto(FORM)
    enter_dates(page, start, end)
    expect(page.locator("#availability")).to_contain_text("These dates are free.")
    type_everything(page, phone="call the office")

    page.get_by_role("button", name="Send the request").click()

    expect(page.locator("#error-summary")).to_be_focused()
    expect(page.locator("#availability")).to_contain_text("These dates are free.")
    expect(page.locator("#start")).to_have_value(start.isoformat())
    expect(page.locator("#phone")).to_have_value("call the office")
