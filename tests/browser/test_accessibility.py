"""Every public page works for everyone: axe-core finds nothing, in French and English, and
the browser console stays free of errors and Content-Security-Policy violations."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from tests.browser.conftest import days_ahead, enter_dates, hold_via_api

pytestmark = pytest.mark.browser

LANGUAGES = ["fr", "en"]
PAGES = {
    "offerings": "/",
    "offering": "/offerings/expo-interieure",
    "form": "/book/expo-interieure",
}
# Each language holds its own dates, far from the other tests' dates.
TAKEN_DAYS = {"fr": 600, "en": 640}
PRIVATE_PAGE_DAYS = {"fr": 700, "en": 720}
CONSOLE_DAYS = 900
AXE = Axe()


def assert_no_axe_violations(page: Page) -> None:
    results = AXE.run(page)
    assert results.violations_count == 0, results.generate_report()


def html_lang(page: Page) -> str | None:
    return page.locator("html").get_attribute("lang")


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("path", PAGES.values(), ids=PAGES.keys())
def test_page_is_accessible_in_each_language(visitor, language, path):
    page = visitor(language).page
    page.goto(path)

    assert html_lang(page) == language
    assert_no_axe_violations(page)


@pytest.mark.parametrize("language", LANGUAGES)
def test_form_showing_taken_dates_and_their_alternatives_is_accessible(visitor, base_url, language):
    start, end = days_ahead(TAKEN_DAYS[language]), days_ahead(TAKEN_DAYS[language] + 4)
    for _crate in ("Caisse A", "Caisse B"):
        hold_via_api(base_url, "expo-interieure", start, end)
    page = visitor(language).page
    page.goto("/book/expo-interieure")
    enter_dates(page, start, end)
    expect(page.locator("#availability [role=alert] a").first).to_be_visible()

    assert_no_axe_violations(page)


@pytest.mark.parametrize("language", LANGUAGES)
def test_form_sent_empty_shows_accessible_errors(visitor, language):
    page = visitor(language).page
    page.goto("/book/expo-interieure")

    page.locator("form button[type=submit]").click()

    expect(page.locator(".form-error[role=alert]")).to_be_visible()
    expect(page.locator("#organization")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#organization")).to_have_attribute(
        "aria-describedby", "organization-error"
    )
    assert html_lang(page) == language
    assert_no_axe_violations(page)


@pytest.mark.parametrize("language", LANGUAGES)
def test_private_booking_page_is_accessible(visitor, base_url, language):
    day = days_ahead(PRIVATE_PAGE_DAYS[language])
    held = hold_via_api(base_url, "formation-bd-textile", day, day, language=language)
    page = visitor(language).page

    page.goto(urlsplit(held["manage_url"]).path)

    expect(page.get_by_role("heading", level=1)).to_contain_text(held["reference"])
    assert html_lang(page) == language
    assert_no_axe_violations(page)


@pytest.mark.parametrize("language, other", [("fr", "en"), ("en", "fr")])
def test_visitor_switches_language_with_the_header_link_and_stays_on_the_page(
    visitor, language, other
):
    page = visitor(language).page
    page.goto("/offerings/expo-interieure")

    page.locator(f"nav a[hreflang={other}]").click()

    expect(page).to_have_url(re.compile(r"/offerings/expo-interieure\??$"))
    expect(page.locator("html")).to_have_attribute("lang", other)
    expect(page.locator(f"nav a[hreflang={language}]")).to_be_visible()


def test_pages_and_their_live_parts_log_no_console_errors(first_time_visitor, base_url):
    day = days_ahead(CONSOLE_DAYS)
    held = hold_via_api(base_url, "formation-bd-textile", day, day)
    errors = []
    for language in LANGUAGES:
        tab = first_time_visitor(language)
        page = tab.page
        for path in [*PAGES.values(), urlsplit(held["manage_url"]).path]:
            page.goto(path)
        # What HTMX brings in later must pass the Content-Security-Policy too.
        page.goto("/offerings/expo-interieure")
        title = page.locator("#calendar-title").inner_text()
        page.locator("#calendar .calendar-nav a", has_text="→").click()
        expect(page.locator("#calendar-title")).not_to_have_text(title)
        page.goto("/book/expo-interieure")
        enter_dates(page, days_ahead(CONSOLE_DAYS), days_ahead(CONSOLE_DAYS + 2))
        expect(page.locator("#availability p")).to_be_visible()
        errors += [f"{language}: {error}" for error in tab.console_errors]

    assert errors == []
