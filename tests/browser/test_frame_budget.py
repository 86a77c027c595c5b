"""The union's pages are light and their header small: each page transfers under 100 KB before
images (what a phone on a weak network waits for before it can read anything), and the header
takes one line on a laptop and two on a phone, where it used to take six."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, Request, expect

from tests.browser.conftest import hold_via_api
from tests.browser.test_accessibility import PAGES  # the union's pages, checked alike
from tests.factories import training_day

pytestmark = pytest.mark.browser

BUDGET_BYTES = 100 * 1024
NOT_COUNTED = {"image", "media"}  # portraits come after the text, and lazily
PRIVATE_PAGE_DAYS = 705  # a training day, near test_accessibility's (this part's days)
WIDTHS = {"laptop": (1280, 800), "phone": (390, 844)}
HEADER_PAGES = ["/", "/offerings/expo-exterieure", "/book/formation-bd-textile"]
# A phone's first screen: the header took 22% of it with six lines.
PHONE_SCREEN_SHARE = 0.12


class Transfers:
    """What a page brings over the network, read from Chromium's own count of each response."""

    def __init__(self, page: Page) -> None:
        self.counted: dict[str, int] = {}
        page.on("requestfinished", self._finished)

    def _finished(self, request: Request) -> None:
        if request.resource_type in NOT_COUNTED:
            return
        received = request.sizes()["responseBodySize"]  # as sent: compressed, if it was
        self.counted[request.url] = self.counted.get(request.url, 0) + received

    @property
    def total(self) -> int:
        return sum(self.counted.values())

    def report(self) -> str:
        rows = sorted(self.counted.items(), key=lambda row: -row[1])
        return "\n".join(f"{size:>8} {urlsplit(url).path}" for url, size in rows)


def load_counting(visitor: Callable, language: str, path: str) -> Transfers:
    page = visitor(language).page
    transfers = Transfers(page)
    page.goto(path, wait_until="networkidle")
    return transfers


@pytest.fixture(scope="module")
def private_path(base_url: str) -> str:
    day = training_day(PRIVATE_PAGE_DAYS)
    held = hold_via_api(base_url, "formation-bd-textile", day, day)
    return urlsplit(held["manage_url"]).path


@pytest.mark.parametrize("language", ["fr", "en"])
@pytest.mark.parametrize("path", PAGES.values(), ids=PAGES.keys())
def test_union_page_transfers_under_100_kb_before_images(visitor, language, path):
    transfers = load_counting(visitor, language, path)

    assert transfers.total < BUDGET_BYTES, transfers.report()


def test_form_with_errors_transfers_under_100_kb_before_images(visitor):
    page = visitor("fr").page
    page.goto("/book/expo-exterieure")
    # Counted as if it were the first page seen: nothing comes from the browser's cache.
    devtools = page.context.new_cdp_session(page)
    devtools.send("Network.enable")
    devtools.send("Network.setCacheDisabled", {"cacheDisabled": True})
    transfers = Transfers(page)

    page.locator("#request-form button[type=submit]:not([name])").last.click()
    expect(page.locator(".form-error[role=alert]").first).to_be_visible()
    page.wait_for_load_state("networkidle")

    assert 0 < transfers.total < BUDGET_BYTES, transfers.report()


def test_private_page_transfers_under_100_kb_before_images(visitor, private_path):
    transfers = load_counting(visitor, "en", private_path)

    assert transfers.total < BUDGET_BYTES, transfers.report()


def test_the_budget_counts_every_script_and_style(visitor):
    """The measure itself: it sees the page, its stylesheet and HTMX, and leaves images out."""
    transfers = load_counting(visitor, "en", "/")
    paths = [urlsplit(url).path for url in transfers.counted]

    assert "/" in paths and "/static/style.css" in paths and "/static/htmx.min.js" in paths
    assert not any(path.startswith("/media/") for path in paths)
    assert transfers.counted[next(u for u in transfers.counted if u.endswith("htmx.min.js"))] > 0


HEADER_LINES = """() => {
    const header = document.querySelector('.site-header');
    const style = getComputedStyle(header);
    const box = header.getBoundingClientRect();
    const content = box.height - parseFloat(style.paddingTop) - parseFloat(style.paddingBottom)
        - parseFloat(style.borderTopWidth) - parseFloat(style.borderBottomWidth);
    // Every line box of text the header draws, grouped into rows where they overlap.
    const lines = [];
    const walker = document.createTreeWalker(header, NodeFilter.SHOW_TEXT);
    while (walker.nextNode()) {
        const node = walker.currentNode;
        if (!node.textContent.trim()) continue;
        const range = document.createRange();
        range.selectNodeContents(node);
        for (const rect of range.getClientRects()) {
            if (rect.width > 0 && rect.height > 0) lines.push([rect.top, rect.bottom]);
        }
    }
    lines.sort((a, b) => a[0] - b[0]);
    let rows = 0, bottom = -Infinity;
    for (const [top, end] of lines) {
        if (top >= bottom - 2) { rows += 1; bottom = end; } else { bottom = Math.max(bottom, end); }
    }
    const lineHeight = Math.max(...[...header.querySelectorAll('*')]
        .filter(element => element.offsetParent !== null && element.textContent.trim())
        .map(element => parseFloat(getComputedStyle(element).lineHeight) || 0));
    return {rows, content, height: box.height, lineHeight};
}"""


@pytest.mark.parametrize("language", ["fr", "en"])
@pytest.mark.parametrize("path", HEADER_PAGES)
def test_header_takes_two_lines_on_a_phone(visitor, language, path):
    page = visitor(language).page
    page.set_viewport_size(dict(zip(("width", "height"), WIDTHS["phone"], strict=True)))
    page.goto(path)

    header = page.evaluate(HEADER_LINES)

    assert header["rows"] <= 2, header
    assert header["content"] <= 2 * header["lineHeight"] + 1, header
    assert header["height"] <= PHONE_SCREEN_SHARE * WIDTHS["phone"][1], header
    expect(page.locator(".site-header .brand")).to_be_visible()
    expect(page.locator(".site-header .languages")).to_be_visible()


@pytest.mark.parametrize("language", ["fr", "en"])
@pytest.mark.parametrize("path", HEADER_PAGES)
def test_header_takes_one_line_on_a_laptop(visitor, language, path):
    page = visitor(language).page
    page.set_viewport_size(dict(zip(("width", "height"), WIDTHS["laptop"], strict=True)))
    page.goto(path)

    header = page.evaluate(HEADER_LINES)

    assert header["rows"] == 1, header
    assert header["content"] <= header["lineHeight"] + 1, header
