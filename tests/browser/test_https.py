"""Over https behind a trusted proxy, as in production: the real forms still work (their CSRF
check needs a same-origin Referer, which the Referrer-Policy keeps), and nothing leaks."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import days_ahead, enter_dates
from tests.browser.test_booking_form import fill_contact_and_venue

pytestmark = pytest.mark.browser

HTTPS_DAYS = 600


def test_union_books_and_cancels_over_https(https_visitor, https_base_url):
    page = https_visitor("en").page
    page.goto("/book/expo-interieure")
    start = days_ahead(HTTPS_DAYS)
    enter_dates(page, start, days_ahead(HTTPS_DAYS + 4))
    fill_contact_and_venue(page, exhibition=True)
    page.get_by_role("button", name="Send the request").click()

    expect(page).to_have_url(re.compile(rf"^{re.escape(https_base_url)}/bookings/[\w-]{{20,}}$"))
    expect(page.get_by_role("status")).to_contain_text("Your request is received")
    assert page.context.cookies()[0]["secure"], "the session cookie goes over https only"

    page.get_by_role("link", name="Cancel this request").click()
    page.get_by_role("button", name=re.compile("cancel", re.IGNORECASE)).click()
    expect(page.get_by_role("status")).to_contain_text("cancelled and its dates are free again")
    expect(page.locator("body")).not_to_contain_text("This form has expired")
