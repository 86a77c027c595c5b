"""The staff's screens pages in a real browser: a screen added without JavaScript, keyboard
and labels only; the list, the form and the form's refusals pass axe-core in French and
English."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in_as_staff
from tests.browser.test_accessibility import assert_no_axe_violations, html_lang

pytestmark = pytest.mark.browser


def test_staff_add_a_screen_without_javascript(visitor, staff_email):
    tab = visitor("en", javascript=False)
    page = tab.page
    sign_in_as_staff(page, staff_email)
    page.goto("/staff/screens")
    page.get_by_role("link", name="Add a screen").click()

    page.get_by_label("Name").fill("Hall of local 1500")
    page.get_by_label("First language").select_option("es")
    page.get_by_label("Second language").select_option("en")
    page.get_by_label("Third language").select_option("")
    page.get_by_label("Seconds per slide").fill("8")
    page.get_by_label("Only the portraits ticked below").check()
    page.locator(".portrait-choice-list input[type=checkbox]").first.check()
    page.get_by_role("button", name="Add the screen").click()

    expect(page.get_by_role("status")).to_contain_text("Screen Hall of local 1500 added")
    row = page.locator("tr", has_text="Hall of local 1500")
    expect(row).to_contain_text("/kiosk/hall-of-local-1500")
    expect(row).to_contain_text("chosen portraits: 1")
    expect(row).to_contain_text("Spanish, English")


@pytest.mark.parametrize("language", ["fr", "en"])
def test_the_screens_pages_are_accessible(visitor, staff_email, language):
    tab = visitor(language)
    page = tab.page
    sign_in_as_staff(page, staff_email)
    for path in ("/staff/screens", "/staff/screens/new", "/staff/screens/1"):
        page.goto(path)
        assert html_lang(page) == language
        assert_no_axe_violations(page)
    assert tab.console_errors == []

    # The form as it comes back refused, with a message on each field.
    page.goto("/staff/screens/new")
    page.locator("#name").fill("")
    page.locator("#seconds_per_slide").fill("2")
    page.locator("#language_2").select_option(index=1)  # the first language again
    page.locator("form.screen-form button[type=submit]").click()
    expect(page.locator("#name-error")).to_be_visible()
    expect(page.locator("#languages-error")).to_be_visible()
    assert_no_axe_violations(page)
    assert all("status of 422" in error for error in tab.console_errors)  # the refusal itself
