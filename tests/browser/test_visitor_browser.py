"""The visitor page on a phone, in real Chromium: axe-core finds nothing in French, Spanish
or English, the phone takes a phone-sized image, and the QR code it shows to pass the story
on reads back (zxing-cpp, on a screenshot) as exactly its /q/ address, which leads to the
portrait's page with the campaign parameters."""

from __future__ import annotations

import http.client
import io
import json
import time
import urllib.request
from collections.abc import Callable, Iterator
from urllib.parse import parse_qsl, urlsplit

import pytest
import zxingcpp
from PIL import Image
from playwright.sync_api import Browser, BrowserContext, Page

from tests.browser.conftest import TIMEOUT_MS, Visitor
from tests.browser.test_accessibility import assert_no_axe_violations, html_lang

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
LOCALES = {"fr": "fr-CA", "es": "es-MX", "en": "en-CA"}
PORTRAITS_READY_SECONDS = 60  # the server makes the demo portraits' sizes after it starts


@pytest.fixture
def phone(browser: Browser, base_url: str) -> Iterator[Callable[[str], Visitor]]:
    """A phone's browser: small screen, touch, twice as many pixels as CSS pixels."""
    contexts: list[BrowserContext] = []

    def open_phone(language: str) -> Visitor:
        context = browser.new_context(
            base_url=base_url,
            viewport=PHONE,
            device_scale_factor=2,
            is_mobile=True,
            has_touch=True,
            locale=LOCALES[language],
            extra_http_headers={"Accept-Language": f"{LOCALES[language]},{language};q=0.9"},
        )
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        return Visitor(context.new_page())

    yield open_phone
    for context in contexts:
        context.close()


@pytest.fixture(scope="module")
def story(base_url: str) -> dict[str, str]:
    """The first portrait the default screen plays: its name and its QR code's address."""
    deadline = time.monotonic() + PORTRAITS_READY_SECONDS
    while True:
        with urllib.request.urlopen(f"{base_url}/kiosk/accueil/bundle.json", timeout=10) as got:
            slides = json.load(got)["slides"]
        if slides:
            return {"slug": slides[0]["portrait"], "url": slides[0]["story"]["url"]}
        assert time.monotonic() < deadline, "no demo portrait got its sizes"
        time.sleep(0.5)


def open_story(page: Page, slug: str, language: str) -> None:
    page.goto(f"/p/{slug}?lang={language}&screen=accueil")
    page.wait_for_function(
        "() => [...document.images].every(image => image.complete && image.naturalWidth > 0)"
    )


@pytest.mark.parametrize("language", ["fr", "es", "en"])
def test_the_visitor_page_is_accessible_on_a_phone(phone, story, language):
    tab = phone(language)
    open_story(tab.page, story["slug"], language)

    assert html_lang(tab.page) == language
    assert_no_axe_violations(tab.page)
    assert tab.console_errors == []


def test_the_phone_takes_a_phone_sized_image(phone, story):
    page = phone("fr").page
    open_story(page, story["slug"], "fr")

    taken = page.locator("picture img").evaluate("image => new URL(image.currentSrc).pathname")
    offered = page.locator("picture source").get_attribute("srcset")
    widths = {url: int(width.rstrip("w")) for url, width in (o.split() for o in offered.split(","))}
    # 390 CSS pixels at twice the density need 780: the browser takes the 960 size.
    assert widths[taken] == 960


def test_the_code_to_pass_the_story_on_reads_as_its_short_link(phone, story, base_url):
    page = phone("en").page
    open_story(page, story["slug"], "en")
    qr = page.locator("img.qr")

    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(qr.screenshot())))

    code = qr.get_attribute("src").removeprefix("/kiosk/qr/").removesuffix(".svg")
    assert [barcode.text for barcode in found] == [f"{base_url}/q/{code}"]
    assert found[0].text == story["url"], "the same code as the screen shows for it"
    address = urlsplit(base_url)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=10)
    try:
        connection.request("GET", f"/q/{code}")
        response = connection.getresponse()
        response.read()
    finally:
        connection.close()
    assert response.status == 302
    location = urlsplit(response.getheader("Location"))
    assert f"{location.scheme}://{location.netloc}{location.path}" == (
        f"{base_url}/p/{story['slug']}"
    )
    assert dict(parse_qsl(location.query)) == {
        "utm_source": "ambulante",
        "utm_medium": "qr",
        "utm_campaign": "accueil",
        "utm_content": story["slug"],
        "lang": "fr",
        "screen": "accueil",
    }
