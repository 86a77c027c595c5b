"""The staff's QR targets pages in a real browser: the list, the form to add one, a target's
page (a built-in one, and the dues form without its address) and the refused form pass
axe-core in French and English. Nothing is added: the server is shared with other tests."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in_as_staff
from tests.browser.test_accessibility import assert_no_axe_violations, html_lang

pytestmark = pytest.mark.browser

PAGES = ("/staff/targets", "/staff/targets/new", "/staff/targets/1", "/staff/targets/3")


@pytest.mark.parametrize("language", ["fr", "en"])
def test_the_targets_pages_are_accessible(visitor, staff_email, language):
    tab = visitor(language)
    page = tab.page
    sign_in_as_staff(page, staff_email)  # an administrator: the forms are shown
    for path in PAGES:
        page.goto(path)
        assert html_lang(page) == language
        assert_no_axe_violations(page)
    assert tab.console_errors == []

    # The form as it comes back refused, with a message on each field it is about.
    page.goto("/staff/targets/new")
    page.locator("#name").fill("¡!")
    page.locator("#label_es").fill("")
    page.locator("#url").fill("javascript:alert(1)")
    page.locator("form.target-form button[type=submit]").click()
    expect(page.locator("#name-error")).to_be_visible()
    expect(page.locator("#label_es-error")).to_be_visible()
    expect(page.locator("#url-error")).to_be_visible()
    expect(page.locator("#url")).to_have_attribute("aria-invalid", "true")
    assert_no_axe_violations(page)
    assert all("status of 422" in error for error in tab.console_errors)  # the refusal itself
