"""A union cancels in a real browser and finds the email in the outbox; a union whose link no
longer works asks for it again from the 404 page and opens its booking from the email."""

from __future__ import annotations

import email
import re
import time
from email import policy
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from babel.dates import format_date
from playwright.sync_api import expect

from tests.browser.conftest import days_ahead, hold_via_api

pytestmark = pytest.mark.browser

# Each test that holds dates has its own stretch of the calendar, far from the others'.
CANCEL_DAYS = 200
LOST_LINK_DAYS = 1092
MAIL_WAIT_SECONDS = 10


def mail_to(data_dir: Path, address: str, subject: str) -> EmailMessage:
    """The message to `address` whose subject starts with `subject`, as the server wrote it
    to its outbox folder (waiting for it: the lost links are sent after the page answers)."""
    deadline = time.monotonic() + MAIL_WAIT_SECONDS
    while time.monotonic() < deadline:
        for path in sorted((data_dir / "outbox").glob("*.eml"), reverse=True):
            message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
            if message["To"] == address and message["Subject"].startswith(subject):
                return message
        time.sleep(0.1)
    pytest.fail(f"no message {subject!r} to {address} in the outbox")


def text_of(message: EmailMessage) -> str:
    return message.get_body(("plain",)).get_content()


def test_union_cancels_and_is_offered_to_book_again(visitor, base_url, data_dir):
    start, end = days_ahead(CANCEL_DAYS), days_ahead(CANCEL_DAYS + 4)
    address = f"annule-{CANCEL_DAYS}@example.org"
    held = hold_via_api(base_url, "expo-interieure", start, end, email=address, language="en")
    tab = visitor("en")
    page = tab.page
    page.goto(urlsplit(held["manage_url"]).path)

    page.get_by_role("link", name="Cancel this request").click()
    expect(page.get_by_text("We will email a confirmation to")).to_contain_text(address)
    page.get_by_role("button", name="Yes, cancel the request").click()

    expect(page.locator(".status")).to_contain_text("cancelled")
    today = format_date(days_ahead(0), "long", locale="en")
    expect(page.get_by_text("This request was cancelled on")).to_contain_text(today)
    expect(page.get_by_text(f"We emailed a confirmation to {address}.")).to_be_visible()
    expect(page.get_by_role("link", name="Add to my calendar (.ics)")).to_have_count(0)
    expect(page.get_by_role("link", name="Cancel this request")).to_have_count(0)
    expect(page.get_by_text("anyone who has it can cancel")).to_have_count(0)

    message = mail_to(data_dir, address, f"Your request {held['reference']} is cancelled")
    assert "other unions can book them now" in text_of(message)
    assert "/book/expo-interieure" in text_of(message)

    page.get_by_role("link", name="Book again").click()
    expect(page).to_have_url(re.compile(r"/book/expo-interieure\?"))
    expect(page.get_by_label("Union or organization")).to_have_value("Syndicat des cols bleus")
    expect(page.get_by_label("Email")).to_have_value(address)
    assert tab.console_errors == []


def test_union_with_a_lost_link_gets_it_again_from_the_404_page(visitor, base_url, data_dir):
    day = days_ahead(LOST_LINK_DAYS)
    address = f"perdu-{LOST_LINK_DAYS}@example.org"
    last = days_ahead(LOST_LINK_DAYS + 4)
    held = hold_via_api(base_url, "expo-interieure", day, last, email=address, language="en")
    old_path = urlsplit(held["manage_url"]).path
    page = visitor("en", javascript=False).page

    answer = page.goto(old_path + "-mistyped")
    assert answer is not None and answer.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("This link does not work")
    page.get_by_label("Email").fill(address.upper())
    page.get_by_role("button", name="Send me my links").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Check your email")
    message = mail_to(data_dir, address, "Your private links to your requests")
    [link] = re.findall(r"https?://\S+/bookings/\S+", text_of(message))
    assert held["reference"] in text_of(message)

    page.goto(urlsplit(link).path)
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Request {held['reference']}")
    expect(page.get_by_role("link", name="Cancel this request")).to_be_visible()
    # The link sent with the request was replaced: it now leads to the same way back.
    stale = page.goto(old_path)
    assert stale is not None and stale.status == 404
    expect(page.get_by_role("heading", level=2)).to_have_text("Lost your link?")
