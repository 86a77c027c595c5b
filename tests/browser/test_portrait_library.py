"""The staff portrait library in a real browser: two images uploaded at once with a progress
bar, the new portraits in the list without a reload, a portrait moved with its button or by
drag and drop; the library's pages pass axe-core in French and English."""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image
from playwright.sync_api import Page, expect

from tests.browser.conftest import sign_in_as_staff
from tests.browser.test_accessibility import assert_no_axe_violations, html_lang

pytestmark = pytest.mark.browser

NEW_SLUG = re.compile(r"Write its captions \((p-[0-9a-f]+)\)")


def small_jpeg(colour: tuple[int, int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (48, 64), colour).save(buffer, "JPEG")
    return buffer.getvalue()


def watch_the_progress_bar(page: Page) -> None:
    """Notes how the bar looks each time htmx reports the upload's progress (after
    static/library.js has drawn it: window hears the event last)."""
    page.evaluate("""() => { window.progressSeen = [];
        window.addEventListener('htmx:xhr:progress', () => {
            const bar = document.querySelector('#upload-progress');
            window.progressSeen.push({visible: bar.checkVisibility(), value: bar.value});
        }); }""")


def order_of(page: Page) -> list[str]:
    return page.locator("#portrait-list li.portrait-row").evaluate_all(
        "rows => rows.map(row => row.querySelector('.slug').textContent)"
    )


def upload_two(page: Page, colours: tuple[tuple[int, int, int], ...]) -> list[str]:
    """Two images chosen at once and sent; returns the new portraits' slugs."""
    page.locator("#files").set_input_files(
        [
            {"name": f"portrait-{n}.jpg", "mimeType": "image/jpeg", "buffer": small_jpeg(c)}
            for n, c in enumerate(colours)
        ]
    )
    page.get_by_role("button", name="Upload", exact=True).click()
    results = page.locator("#upload-results")
    expect(results).to_contain_text("Added 2, skipped 0, refused 0.")
    return NEW_SLUG.findall(results.inner_text())


def test_staff_upload_two_images_at_once_and_move_one_up_without_a_reload(visitor, staff_email):
    tab = visitor("en")
    page = tab.page
    sign_in_as_staff(page, staff_email)
    page.goto("/staff/portraits")
    page.evaluate("window.stillTheSamePage = true")
    watch_the_progress_bar(page)

    first, second = upload_two(page, ((200, 60, 20), (20, 60, 200)))

    seen = page.evaluate("window.progressSeen")
    assert seen and all(moment["visible"] for moment in seen), seen
    assert seen[-1]["value"] == 100
    expect(page.locator(".upload-progress")).to_be_hidden()  # done: the results say the rest
    for slug in (first, second):
        expect(page.locator("#portrait-list li", has_text=slug)).to_contain_text("processing…")
    assert order_of(page)[-2:] == [first, second]

    page.locator("li.portrait-row", has_text=second).get_by_role("button", name="Up").click()

    expect(page.locator("#portrait-list li.portrait-row").nth(-2)).to_contain_text(second)
    assert order_of(page)[-2:] == [second, first]
    assert page.evaluate("window.stillTheSamePage === true"), "the page was reloaded"
    assert tab.console_errors == []


def test_staff_drag_a_portrait_by_its_handle_to_the_top(visitor, staff_email):
    tab = visitor("en")
    page = tab.page
    sign_in_as_staff(page, staff_email)
    page.set_viewport_size({"width": 1280, "height": 3000})  # the whole list in sight
    page.goto("/staff/portraits")
    page.evaluate("window.stillTheSamePage = true")
    last = order_of(page)[-1]

    rows = page.locator("#portrait-list li.portrait-row")
    with page.expect_response(lambda answer: answer.url.endswith("/staff/portraits/order")) as sent:
        rows.last.locator(".drag-handle").drag_to(rows.first, target_position={"x": 20, "y": 5})

    assert sent.value.status == 200
    expect(rows.first).to_contain_text(last)
    assert page.evaluate("window.stillTheSamePage === true"), "the page was reloaded"
    page.reload()  # the order was kept, not only drawn
    assert order_of(page)[0] == last
    assert tab.console_errors == []


@pytest.mark.parametrize("language", ["fr", "en"])
def test_the_library_pages_are_accessible(visitor, staff_email, language):
    tab = visitor(language)
    page = tab.page
    sign_in_as_staff(page, staff_email)
    page.goto("/staff/portraits")
    edit = page.locator("#portrait-list li.portrait-row a").first.get_attribute("href")
    for path in ("/staff/portraits", edit, f"{edit}/delete"):
        page.goto(path)
        assert html_lang(page) == language
        assert_no_axe_violations(page)
    assert tab.console_errors == []
