"""Every public page works for everyone: axe-core finds nothing on a laptop and on a phone, in
French and English, and the browser console stays free of errors and Content-Security-Policy
violations."""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import urlsplit

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import LOCALES, TIMEOUT_MS, days_ahead, enter_dates, hold_via_api
from tests.factories import training_day

pytestmark = pytest.mark.browser

LANGUAGES = ["fr", "en"]
WIDTHS = {"laptop": 1280, "phone": 390}
PHONE_HEIGHT = 844
PAGES = {
    "home": "/",
    "indoor-set": "/offerings/expo-interieure",
    "outdoor-set": "/offerings/expo-exterieure",
    "training": "/offerings/formation-bd-textile",
    "form": "/book/expo-interieure",
    "outdoor-form": "/book/expo-exterieure",
    "training-form": "/book/formation-bd-textile",
    "lost-link": "/bookings/lost-link",
}
# Each language holds its own dates, far from the other tests' dates.
TAKEN_DAYS = {"fr": 600, "en": 640}
PRIVATE_PAGE_DAYS = {"fr": 700, "en": 720}  # the training: a private page, a cancelled one
CONSOLE_DAYS = 900
AXE = Axe()


def assert_no_axe_violations(page: Page) -> None:
    results = AXE.run(page)
    assert results.violations_count == 0, results.generate_report()


def html_lang(page: Page) -> str | None:
    return page.locator("html").get_attribute("lang")


def tab(visitor: Callable, language: str, width: str) -> Page:
    page = visitor(language).page
    page.set_viewport_size({"width": WIDTHS[width], "height": PHONE_HEIGHT})
    return page


def cancel_in_a_browser(browser: Browser, base_url: str, path: str) -> None:
    """The union's own way: the private page's cancel link, then the confirmation's button."""
    context = browser.new_context(base_url=base_url, locale=LOCALES["en"])
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.goto(f"{path}/cancel")
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(f"**{path}")
    context.close()


@pytest.fixture(scope="module")
def private_paths(base_url: str) -> dict[str, str]:
    """A training request per language, as its union's private link opens it."""
    paths = {}
    for language, days in PRIVATE_PAGE_DAYS.items():
        day = training_day(days)
        held = hold_via_api(base_url, "formation-bd-textile", day, day, language=language)
        paths[language] = urlsplit(held["manage_url"]).path
    return paths


@pytest.fixture(scope="module")
def cancelled_paths(browser: Browser, base_url: str) -> dict[str, str]:
    """A training request per language that its union has cancelled."""
    paths = {}
    for language, days in PRIVATE_PAGE_DAYS.items():
        day = training_day(days + 2)
        held = hold_via_api(base_url, "formation-bd-textile", day, day, language=language)
        paths[language] = urlsplit(held["manage_url"]).path
        cancel_in_a_browser(browser, base_url, paths[language])
    return paths


@pytest.fixture(scope="module")
def taken_dates(base_url: str) -> dict[str, tuple]:
    """Dates both crates of the indoor set are away on, per language."""
    taken = {}
    for language, days in TAKEN_DAYS.items():
        start, end = days_ahead(days), days_ahead(days + 4)
        for _crate in ("Caisse A", "Caisse B"):
            hold_via_api(base_url, "expo-interieure", start, end)
        taken[language] = (start, end)
    return taken


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("path", PAGES.values(), ids=PAGES.keys())
def test_page_is_accessible_in_each_language_and_width(visitor, language, width, path):
    page = tab(visitor, language, width)
    page.goto(path)

    assert html_lang(page) == language
    assert_no_axe_violations(page)


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("language", LANGUAGES)
def test_form_showing_taken_dates_and_their_alternatives_is_accessible(
    visitor, taken_dates, language, width
):
    page = tab(visitor, language, width)
    page.goto("/book/expo-interieure")
    enter_dates(page, *taken_dates[language])
    expect(page.locator("#availability [role=alert] .windows button").first).to_be_visible()

    assert_no_axe_violations(page)


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("offering", ["expo-exterieure", "formation-bd-textile"])
def test_form_sent_empty_shows_accessible_errors(visitor, language, width, offering):
    page = tab(visitor, language, width)
    page.goto(f"/book/{offering}")

    page.locator("#request-form button[type=submit]:not([name])").last.click()

    expect(page.locator(".form-error[role=alert]").first).to_be_visible()
    expect(page.locator("#organization")).to_have_attribute("aria-invalid", "true")
    assert html_lang(page) == language
    assert_no_axe_violations(page)


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("language", LANGUAGES)
def test_private_booking_page_is_accessible(visitor, private_paths, language, width):
    page = tab(visitor, language, width)

    page.goto(private_paths[language])

    expect(page.get_by_role("heading", level=1)).to_contain_text(re.compile(r"AMB-\d{4}-\d+"))
    assert html_lang(page) == language
    assert_no_axe_violations(page)


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("language", LANGUAGES)
def test_cancelled_booking_page_is_accessible(visitor, cancelled_paths, language, width):
    page = tab(visitor, language, width)

    page.goto(cancelled_paths[language])

    expect(page.locator(".status-cancelled")).to_be_visible()
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
    day = training_day(CONSOLE_DAYS)
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
