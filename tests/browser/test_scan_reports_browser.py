"""The scan reports in a real browser: after visitors scanned a venue's screen for some days,
staff see the charts drawn (each one takes room on the page, in the stylesheet's colours),
and the page, its figures per day and its refusal of a bad period pass axe-core, in French
and in English."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from core.clock import LOCAL_TIMEZONE, now_utc, today_local
from kiosk.links import count_scan, links_of, portrait_purpose
from kiosk.models import Heartbeat, Screen
from kiosk.screens import ScreenSettings, create_screen
from kiosk.targets import all_targets
from media.models import Portrait
from tests.browser.conftest import sign_in_as_staff
from tests.browser.test_accessibility import assert_no_axe_violations, html_lang

pytestmark = pytest.mark.browser

SCREEN = "Salle du rapport de lectures"
# Scans on past days only, on a screen of this test's own: the other browser tests' counts
# (today's, on their screens) stay as they expect them.
SCANS = [(1, "donate", 4), (2, "signup", 2), (3, "donate", 7), (6, "story", 3), (12, "signup", 1)]
CHART_COLOUR = "rgb(138, 28, 28)"  # --accent in static/style.css


@pytest.fixture(scope="module")
def scanned(base_url: str, data_dir: Path) -> str:
    """Visitors scanned the screen's codes over the last two weeks, and it was on a while."""
    engine = create_engine(f"sqlite:///{data_dir / 'ambulante.sqlite3'}")
    try:
        with Session(engine) as session:
            screen = session.scalar(select(Screen).where(Screen.name == SCREEN))
            if screen is None:
                screen = create_screen(
                    session, ScreenSettings(name=SCREEN), "coordination@centre.example", now_utc()
                )
                session.commit()
            portrait = session.scalars(select(Portrait).order_by(Portrait.id)).first()
            assert portrait is not None, "the demo portraits are in the library"
            links = links_of(session, screen, all_targets(session), [portrait], now_utc())
            links["story"] = links[portrait_purpose(portrait)]
            for days_ago, purpose, times in SCANS:
                for _ in range(times):
                    count_scan(session, links[purpose].id, today_local() - dt.timedelta(days_ago))
            noon = dt.datetime.combine(
                today_local() - dt.timedelta(days=2), dt.time(12), LOCAL_TIMEZONE
            ).astimezone(dt.UTC)
            session.add_all(
                Heartbeat(screen_id=screen.id, minute=noon + dt.timedelta(minutes=n))
                for n in range(90)
            )
            session.commit()
            return screen.name
    finally:
        engine.dispose()


def assert_drawn(page: Page, selector: str) -> None:
    for element in page.locator(selector).all():
        box = element.bounding_box()
        assert box is not None and box["width"] > 0 and box["height"] > 0, selector


@pytest.mark.parametrize("language", ["fr", "en"])
def test_staff_read_the_scan_charts_in_a_real_browser(visitor, staff_email, scanned, language):
    tab = visitor(language)
    page = tab.page
    sign_in_as_staff(page, staff_email)
    page.goto("/staff/scans")

    assert html_lang(page) == language
    charts = page.locator("svg.chart[role=img]")
    expect(charts).to_have_count(5)
    assert_drawn(page, "svg.chart")
    assert_drawn(page, "#chart-daily polyline.chart-line")
    bars = page.locator("#chart-screens rect.chart-bar")
    widest = max(bar.bounding_box()["width"] for bar in bars.all())  # type: ignore[index]
    assert widest > 100  # the most scanned screen's bar
    colour = bars.first.evaluate("bar => getComputedStyle(bar).fill")
    assert colour == CHART_COLOUR
    row = page.locator("#screens tr", has_text=scanned)
    expect(row).to_contain_text("17")  # 4 + 2 + 7 + 3 + 1
    expect(row).to_contain_text("1,5" if language == "fr" else "1.5")  # 90 minutes on
    assert_no_axe_violations(page)

    page.locator(".scan-report details summary").click()
    expect(page.locator(".scan-report details table")).to_be_visible()
    assert_no_axe_violations(page)
    assert tab.console_errors == []

    # A period that makes no report: the page says why, and stays accessible.
    page.locator("#report-from").fill((today_local() - dt.timedelta(days=2)).isoformat())
    page.locator("#report-to").fill((today_local() - dt.timedelta(days=9)).isoformat())
    page.locator(".report-range button[type=submit]").click()
    expect(page.locator("#report-to-error")).to_be_visible()
    expect(page.locator("#report-to")).to_have_attribute("aria-invalid", "true")
    assert_no_axe_violations(page)
    assert all("status of 422" in error for error in tab.console_errors)
