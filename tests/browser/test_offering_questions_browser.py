"""Each offering's form asks what it needs, in a real browser: the training one date and a
start time (and never a statutory holiday), the outdoor set its site."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import (
    days_ahead,
    enter_dates,
    expect_live_answer_to_settle,
    wait_for_live_answer,
)
from tests.browser.test_booking_form import fill_contact_and_venue

pytestmark = pytest.mark.browser

OUTDOOR_DAYS = 1060  # the outdoor set's request, 1060 to 1067
HOLIDAY_MESSAGE = "Christmas Day (December 25) is a statutory holiday"


def next_christmas() -> dt.date:
    """A Christmas Day past the training's lead time (refused: it holds nothing)."""
    today = days_ahead(0)
    christmas = dt.date(today.year, 12, 25)
    return christmas if christmas >= days_ahead(30) else christmas.replace(year=today.year + 1)


def type_the_date(page: Page, day: dt.date) -> None:
    expect_live_answer_to_settle(page)
    page.locator("#start").fill(day.isoformat())
    wait_for_live_answer(page)


def test_union_booking_the_training_gives_one_date_and_a_start_time_never_a_holiday(visitor):
    page = visitor("en").page
    page.goto("/book/formation-bd-textile")

    expect(page.get_by_label("Date", exact=True)).to_have_attribute("type", "date")
    expect(page.locator("#end")).to_have_count(0)
    expect(page.get_by_label("Start time")).to_have_attribute("type", "time")
    expect(page.get_by_label("Number of participants")).to_be_visible()
    expect(page.get_by_label("Expected audience (people)")).to_have_count(0)

    type_the_date(page, next_christmas())
    expect(page.locator("#availability [role=alert]")).to_contain_text(HOLIDAY_MESSAGE)

    fill_contact_and_venue(page, exhibition=False)
    page.get_by_role("button", name="Send the request").click()

    expect(page).to_have_url(re.compile(r"/book/formation-bd-textile$"))
    expect(page.locator("#start-error")).to_contain_text(HOLIDAY_MESSAGE)
    expect(page.get_by_label("Start time")).to_have_value("09:30")  # nothing typed is lost


def test_union_booking_the_outdoor_set_is_asked_about_its_site(visitor):
    page = visitor("en").page
    page.goto("/book/expo-exterieure")

    for question in (
        "What will the panels stand on?",
        "Permits to install the panels (city, park or owner of the site)",
        "Is there electrical power on the site?",
    ):
        expect(page.get_by_role("group", name=question)).to_be_visible()
    for absent in ("#wall_metres", "#secure_storage-0", "[name=venue_setting]"):
        expect(page.locator(absent)).to_have_count(0)

    start = days_ahead(OUTDOOR_DAYS)
    enter_dates(page, start, start + dt.timedelta(days=7))
    expect(page.locator("#availability")).to_contain_text("These dates are free.")
    page.get_by_label("Union or organization").fill("Syndicat des cols bleus")
    page.get_by_label("Contact person").fill("Ana Pérez")
    page.get_by_label("Email").fill("ana@example.org")
    page.get_by_label("Phone").fill("514 555-0199 poste 224")
    page.get_by_label("Venue", exact=True).fill("Parc Émilie-Gamelin")
    page.get_by_label("Street address").fill("1500 rue Berri")
    page.get_by_label("City").fill("Montréal")
    page.get_by_label("Expected audience (people)").fill("2000")
    page.get_by_label("Gravel").check()
    page.get_by_label("Asked for, answer pending").check()
    page.get_by_role("group", name="Is there electrical power on the site?").get_by_label(
        "No"
    ).check()
    page.get_by_label("Who watches over the panels at night?").fill("Le service de sécurité")
    page.get_by_role("button", name="Send the request").click()

    expect(page).to_have_url(re.compile(r"/bookings/[\w-]{20,}$"))
    expect(page.get_by_role("status")).to_contain_text("Your request is received")
