"""Browser fixtures: the real app served by run.py on a free port, and headless Chromium."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    Playwright,
    sync_playwright,
)

from core.clock import today_local
from tests.factories import STAFF_PASSWORD, api_body, environment_for_server
from tests.servers import Server, free_port
from tests.tls_proxy import TlsProxy, self_signed_certificate

CHROMIUM = os.environ.get("AMBULANTE_CHROMIUM", "/usr/bin/chromium")
# Headless, and nothing that reaches for the network on its own (the sandbox has none; we are root).
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Playwright waits at most this long for anything; a live answer takes well under a second.
TIMEOUT_MS = 5_000
LOCALES = {"fr": "fr-CA", "en": "en-CA"}
PROJECT_ROOT = Path(__file__).resolve().parent.parent.parent


def days_ahead(days: int) -> dt.date:
    """A date `days` from today in Montréal, the app's calendar."""
    return today_local() + dt.timedelta(days=days)


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The browser tests' server's data dir (its SQLite database, its outbox)."""
    return tmp_path_factory.mktemp("browser-data")


@pytest.fixture(scope="session")
def base_url(data_dir: Path) -> Iterator[str]:
    """`python run.py` on a fresh SQLite database with the demo offerings."""
    server = Server(
        data_dir / "server.log",
        AMBULANTE_DATA_DIR=str(data_dir),
        AMBULANTE_BOOKING_RATE_LIMIT="10000/minute",
    )
    yield server.url
    server.stop()


@pytest.fixture(scope="session")
def https_base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """run.py behind a TLS-terminating proxy that it trusts, as behind nginx in production:
    the browser sees https://, the app sees X-Forwarded-Proto: https."""
    if not shutil.which("openssl"):
        pytest.skip("no openssl command to make a certificate")
    data_dir = tmp_path_factory.mktemp("https-data")
    cert, key = self_signed_certificate(data_dir)
    public_port = free_port()
    public_url = f"https://127.0.0.1:{public_port}"
    server = Server(
        data_dir / "server.log",
        AMBULANTE_DATA_DIR=str(data_dir / "app"),
        AMBULANTE_PUBLIC_URL=public_url,
        AMBULANTE_TRUSTED_PROXIES="1",
        AMBULANTE_BOOKING_RATE_LIMIT="10000/minute",
    )
    proxy = TlsProxy(public_port, server.port, cert, key)
    yield public_url
    proxy.stop()
    server.stop()


@pytest.fixture(scope="session")
def staff_email(base_url: str, data_dir: Path) -> str:
    """An administrator's account, made with the command the README gives."""
    email = "desk@centre.example"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "flask",
            "--app",
            "run",
            "staff",
            "create",
            email,
            "--role",
            "admin",
        ],
        input=STAFF_PASSWORD + "\n",
        text=True,
        check=True,
        capture_output=True,
        cwd=PROJECT_ROOT,
        env=environment_for_server(AMBULANTE_DATA_DIR=str(data_dir)),
    )
    return email


def sign_in_as_staff(page: Page, email: str) -> None:
    """Through the login page, as a person does; lands on the dashboard."""
    page.goto("/staff/")
    page.locator("#email").fill(email)
    page.locator("#password").fill(STAFF_PASSWORD)
    page.locator("form.sign-in button[type=submit]").click()
    page.wait_for_url("**/staff/")


def hold_via_api(
    base_url: str, offering: str, start: dt.date, end: dt.date, **overrides: Any
) -> dict[str, Any]:
    """Another union's request through the JSON API; returns the 201 answer."""
    body = api_body(offering, start, end, **overrides)
    request = urllib.request.Request(
        f"{base_url}/api/v1/bookings",
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 201
        return json.load(response)


def expect_live_answer_to_settle(page: Page) -> None:
    """Arms a wait for the next live answer to be in place (swapped and settled by HTMX)."""
    page.evaluate("""() => { window.liveAnswer = new Promise(resolve => document.body
        .addEventListener('htmx:afterSettle', () => resolve(true), {once: true})); }""")


def wait_for_live_answer(page: Page) -> None:
    settled = page.evaluate(
        """timeout => Promise.race([window.liveAnswer,
            new Promise(resolve => setTimeout(() => resolve(false), timeout))])""",
        TIMEOUT_MS,
    )
    assert settled, "no live answer came back under the dates"


def enter_dates(page: Page, start: dt.date, end: dt.date) -> None:
    """Fill both dates as a person does: the answer to the first has come before the second."""
    expect_live_answer_to_settle(page)
    page.locator("#start").fill(start.isoformat())
    wait_for_live_answer(page)
    page.locator("#end").fill(end.isoformat())


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (set AMBULANTE_CHROMIUM)")
    with sync_playwright() as running:
        yield running


def _launch(playwright: Playwright) -> Browser:
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    chromium = _launch(playwright)
    yield chromium
    chromium.close()


class Visitor:
    """One person's browser tab, with what its console complained about."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.console_errors: list[str] = []
        page.on("console", self._on_console)
        page.on("pageerror", lambda error: self.console_errors.append(f"uncaught: {error}"))

    def _on_console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.console_errors.append(f"{message.text} ({message.location.get('url')})")


def _tabs(browser: Browser, base_url: str) -> Iterator[Callable[..., Visitor]]:
    contexts: list[BrowserContext] = []

    def open_tab(language: str = "en", javascript: bool = True) -> Visitor:
        context = browser.new_context(
            base_url=base_url,
            locale=LOCALES[language],
            extra_http_headers={"Accept-Language": f"{LOCALES[language]},{language};q=0.9"},
            java_script_enabled=javascript,
            ignore_https_errors=True,  # the https tests' certificate is self-signed
        )
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        return Visitor(context.new_page())

    yield open_tab
    for context in contexts:
        context.close()


@pytest.fixture
def visitor(browser: Browser, base_url: str) -> Iterator[Callable[..., Visitor]]:
    """Opens a tab in a fresh context: `visitor(language="en", javascript=True)`."""
    yield from _tabs(browser, base_url)


@pytest.fixture
def https_visitor(browser: Browser, https_base_url: str) -> Iterator[Callable[..., Visitor]]:
    """`visitor`, on the site served over https behind a trusted proxy."""
    yield from _tabs(browser, https_base_url)


@pytest.fixture
def first_time_visitor(playwright: Playwright, base_url: str) -> Iterator[Callable[..., Visitor]]:
    """Like `visitor`, in a browser just started: Chromium asks for some things (the site's
    icon) once per browser, so only a new one shows every error a first visit can log."""
    chromium = _launch(playwright)
    yield from _tabs(chromium, base_url)
    chromium.close()


def _date_keys(order: str, when: dt.date) -> list[tuple[str, str]]:
    """Keystrokes for Chromium's date field: each segment in the order the field shows them.
    A full month or day moves on by itself; a year can take more digits, so it needs an arrow."""
    digits = {"y": f"{when.year:04d}", "m": f"{when.month:02d}", "d": f"{when.day:02d}"}
    keys = []
    for position, segment in enumerate(order):
        keys.append(("type", digits[segment]))
        if segment == "y" and position < len(order) - 1:
            keys.append(("press", "ArrowRight"))
    return keys


@pytest.fixture(scope="session")
def type_date(browser: Browser) -> Callable[[Page, dt.date], None]:
    """Types a date into the focused date field, in the segment order this Chromium shows
    (it follows the browser's own locale, which a context's locale does not change)."""
    probe = dt.date(2030, 12, 25)
    page = browser.new_page()
    try:
        for order in ("mdy", "dmy", "ymd"):
            page.set_content('<input type="date" id="probe" aria-label="probe">')
            page.focus("#probe")
            for action, key in _date_keys(order, probe):
                getattr(page.keyboard, action)(key)
            if page.input_value("#probe") == probe.isoformat():
                break
        else:
            pytest.fail("could not learn the order of Chromium's date field segments")
    finally:
        page.close()

    def type_into_focused_field(tab: Page, when: dt.date) -> None:
        for action, key in _date_keys(order, when):
            getattr(tab.keyboard, action)(key)

    return type_into_focused_field
