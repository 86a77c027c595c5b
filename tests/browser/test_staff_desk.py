"""The staff desk in a real browser: sign in, approve a request in place, move through the
calendar, close days; every staff page passes axe-core in French and English."""

from __future__ import annotations

import datetime as dt
import email
import re
import sqlite3
from email import policy
from pathlib import Path

import pytest
from icalendar import Calendar
from playwright.sync_api import expect

from tests.browser.conftest import days_ahead, hold_via_api, sign_in_as_staff
from tests.browser.test_accessibility import assert_no_axe_violations, html_lang

pytestmark = pytest.mark.browser

# Each test's own dates, apart from the other browser tests' (one server serves them all).
APPROVED_DAYS = 800
CLOSED_DAYS = 830
DETAIL_DAYS = {"fr": 760, "en": 780}
CALENDAR_DAYS = 860


def _outbox_to(data_dir: Path, address: str) -> list[email.message.EmailMessage]:
    with sqlite3.connect(data_dir / "ambulante.sqlite3") as database:
        rows = database.execute(
            "SELECT raw FROM outbox_messages WHERE recipient = ? ORDER BY id", (address,)
        ).fetchall()
    return [email.message_from_string(raw, policy=policy.default) for (raw,) in rows]


def test_staff_approve_a_request_in_place_and_the_union_gets_its_calendar(
    visitor, base_url, data_dir, staff_email
):
    start = days_ahead(APPROVED_DAYS)
    union = "browser-union@example.org"
    held = hold_via_api(
        base_url, "expo-interieure", start, start + dt.timedelta(days=4), language="en", email=union
    )
    reference = held["reference"]
    tab = visitor("en")
    page = tab.page
    sign_in_as_staff(page, staff_email)
    page.evaluate("window.stillTheSamePage = true")

    row = page.locator("li.pending", has_text=reference)
    row.get_by_label("Message to the union (optional)").fill("Welcome to the exhibition!")
    row.get_by_role("button", name=f"Approve {reference}").click()

    decided = page.locator("li.pending", has_text=reference)
    expect(decided).to_contain_text("confirmed")
    expect(decided).to_contain_text("the union is told")
    assert page.evaluate("window.stillTheSamePage === true"), "the page was reloaded"

    confirmation = _outbox_to(data_dir, union)[-1]
    assert confirmation["Subject"] == f"Your booking {reference} is confirmed"
    assert "Welcome to the exhibition!" in confirmation.get_body(("plain",)).get_content()
    (calendar,) = [
        part for part in confirmation.walk() if part.get_content_type() == "text/calendar"
    ]
    event = Calendar.from_ical(calendar.get_payload(decode=True)).walk("VEVENT")[0]
    assert str(event["STATUS"]) == "CONFIRMED" and event.decoded("DTSTART") == start
    assert tab.console_errors == []


def test_staff_close_days_and_unions_see_them_closed(visitor, base_url, staff_email):
    tab = visitor("en")
    page = tab.page
    sign_in_as_staff(page, staff_email)
    page.goto("/staff/blackouts")
    first = days_ahead(CLOSED_DAYS)
    page.get_by_label("Closed").select_option(index=0)  # the first offering, every unit
    page.get_by_label("First day").fill(first.isoformat())
    page.get_by_label("Last day").fill((first + dt.timedelta(days=6)).isoformat())
    page.get_by_label("Reason").fill("Frames to the workshop")
    page.get_by_role("button", name="Add the blackout").click()
    expect(page.get_by_role("status")).to_contain_text("Blackout added")
    expect(page.locator("table")).to_contain_text("Frames to the workshop")

    day = first + dt.timedelta(days=3)
    answer = page.request.get(
        f"{base_url}/api/v1/availability?offering=expo-interieure&start={day}&end={day}"
    )
    assert answer.json()["days"][0]["status"] != "free"
    assert tab.console_errors == []


@pytest.mark.parametrize("language", ["fr", "en"])
def test_staff_pages_are_accessible(visitor, base_url, staff_email, language):
    start = days_ahead(DETAIL_DAYS[language])
    held = hold_via_api(base_url, "expo-exterieure", start, start + dt.timedelta(days=9))
    tab = visitor(language)
    page = tab.page
    sign_in_as_staff(page, staff_email)
    for path in ("/staff/", "/staff/calendar", f"/staff/bookings/{held['reference']}"):
        page.goto(path)
        assert html_lang(page) == language
        assert_no_axe_violations(page)
    assert tab.console_errors == []


def test_staff_move_the_calendar_forward_and_back_and_open_a_booking_in_place(
    visitor, base_url, staff_email
):
    start = days_ahead(CALENDAR_DAYS)
    held = hold_via_api(
        base_url, "expo-interieure", start, start + dt.timedelta(days=4), organization="Local 9"
    )
    tab = visitor("en")
    page = tab.page
    sign_in_as_staff(page, staff_email)
    page.goto(f"/staff/calendar?from={start - dt.timedelta(days=7)}")
    page.evaluate("window.stillTheSamePage = true")
    shown = page.locator(".timeline-range")
    first_range = shown.inner_text()

    page.locator("#timeline-next").click()
    expect(shown).not_to_have_text(first_range)
    expect(page).to_have_url(re.compile(r"from=\d{4}-\d{2}-\d{2}"))
    page.locator("#timeline-previous").click()
    expect(shown).to_have_text(first_range)

    page.locator(f"#timeline a[href='/staff/bookings/{held['reference']}']").click()
    expect(page.locator("#booking-detail")).to_contain_text(held["reference"])
    expect(page.locator("#booking-detail")).to_contain_text("Local 9")
    assert page.evaluate("window.stillTheSamePage === true"), "the page was reloaded"
    assert tab.console_errors == []
