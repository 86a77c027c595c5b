"""The README's screenshots: `python -m tests.browser.screenshots [OUT_DIR]` (docs/screenshots/ by
default) starts run.py on a fresh data dir, makes the bookings that give the outdoor set's
calendar a booked stretch (approved on the staff desk), a held one and their transit days, and
shoots the home page, that calendar, the request form with errors and a private booking page at
1280 and 390 px, in French and English: 16 PNGs named like home-fr-1280.png."""

from __future__ import annotations

import datetime as dt
import io
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

from PIL import Image
from playwright.sync_api import Browser, Page, sync_playwright

from core.clock import today_local
from tests.browser.conftest import (
    CHROMIUM,
    CHROMIUM_ARGS,
    LOCALES,
    PROJECT_ROOT,
    TIMEOUT_MS,
    hold_via_api,
    sign_in_as_staff,
)
from tests.factories import STAFF_PASSWORD, environment_for_server
from tests.servers import Server

DEFAULT_OUT = PROJECT_ROOT / "docs" / "screenshots"
LANGUAGES = ("fr", "en")
WIDTHS = {1280: 800, 390: 844}  # width: height of the first screen
OFFERING = "expo-exterieure"  # one set: each booking shows on its calendar
STAFF_EMAIL = "desk@centre.example"
MAX_BYTES = 400_000
PORTRAITS_WAIT_SECONDS = 60  # the demo portraits' sizes are made beside the first requests
SHOTS = ("home", "calendar", "form-errors", "private")
SCREENS_KEPT = 3  # a page too heavy as a whole is cut to its first screens


def shown_month(today: dt.date) -> dt.date:
    """A month far enough ahead for the outdoor set's lead time and length."""
    later = today + dt.timedelta(days=45)
    return later.replace(day=1)


def wait_for_portraits(base_url: str) -> None:
    deadline = time.monotonic() + PORTRAITS_WAIT_SECONDS
    while time.monotonic() < deadline:
        with urllib.request.urlopen(f"{base_url}/", timeout=10) as response:
            if b"portrait-strip" in response.read():
                return
        time.sleep(0.5)
    print("the demo portraits are not ready: the home page is shot without them", flush=True)


def create_staff_account(data_dir: str) -> None:
    """With the command the README gives."""
    subprocess.run(
        [sys.executable, "-m", "flask", "--app", "run", "staff", "create", STAFF_EMAIL]
        + ["--role", "admin"],
        input=STAFF_PASSWORD + "\n",
        text=True,
        check=True,
        capture_output=True,
        cwd=PROJECT_ROOT,
        env=environment_for_server(AMBULANTE_DATA_DIR=data_dir),
    )


def approve_on_the_desk(browser: Browser, base_url: str, reference: str) -> None:
    context = browser.new_context(base_url=base_url, locale=LOCALES["fr"])
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    sign_in_as_staff(page, STAFF_EMAIL)
    page.goto(f"/staff/bookings/{reference}")
    with page.expect_navigation():
        page.locator("button[name=decision][value=confirmed]").click()
    context.close()


def make_bookings(browser: Browser, base_url: str, month: dt.date) -> str:
    """A booked week early in the month and a held one late in it, each with its transit days;
    returns the held request's private page."""
    booked = hold_via_api(
        base_url, OFFERING, month + dt.timedelta(days=3), month + dt.timedelta(days=9)
    )
    approve_on_the_desk(browser, base_url, booked["reference"])
    held = hold_via_api(
        base_url, OFFERING, month + dt.timedelta(days=19), month + dt.timedelta(days=25)
    )
    return urlsplit(held["manage_url"]).path


def send_with_errors(page: Page) -> None:
    """A union that typed its name and a wrong email, and sent the rest empty."""
    page.goto(f"/book/{OFFERING}")
    page.locator("#organization").fill("Syndicat des cols bleus")
    page.locator("#contact_name").fill("Ana Pérez")
    page.locator("#email").fill("ana@")
    with page.expect_navigation():
        page.locator("#request-form button[type=submit]:not([name])").last.click()


def visit(page: Page, name: str, month: dt.date, private_path: str) -> None:
    if name == "home":
        page.goto("/")
    elif name == "calendar":
        page.goto(f"/offerings/{OFFERING}?month={month:%Y-%m}")
    elif name == "form-errors":
        send_with_errors(page)
    else:
        page.goto(private_path)


def all_images_loaded(page: Page) -> None:
    # Lazy images load once near the screen: pass over the page once, then come back.
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    deadline = time.monotonic() + TIMEOUT_MS / 1000
    # Polled from here: the pages' Content-Security-Policy forbids wait_for_function's eval.
    while not page.evaluate("() => [...document.images].every(image => image.complete)"):
        if time.monotonic() > deadline:
            break
        time.sleep(0.1)
    page.evaluate("window.scrollTo(0, 0)")


def small_png(png: bytes, screen_height: int) -> bytes:
    """Under MAX_BYTES: the page as it is if it fits, else in 256 colours (text stays sharp),
    else its first screens."""
    if len(png) <= MAX_BYTES:
        return png
    image = Image.open(io.BytesIO(png)).convert("RGB")
    for cut in (None, screen_height * SCREENS_KEPT, screen_height):
        shown = image if cut is None else image.crop((0, 0, image.width, min(cut, image.height)))
        out = io.BytesIO()
        shown.quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(out, "PNG", optimize=True)
        if out.tell() <= MAX_BYTES:
            return out.getvalue()
    return out.getvalue()


def shoot(
    browser: Browser, base_url: str, month: dt.date, private_path: str, out: Path
) -> list[Path]:
    written = []
    for language in LANGUAGES:
        for width, height in WIDTHS.items():
            context = browser.new_context(
                base_url=base_url,
                viewport={"width": width, "height": height},
                locale=LOCALES[language],
                extra_http_headers={"Accept-Language": f"{LOCALES[language]},{language};q=0.9"},
            )
            context.set_default_timeout(TIMEOUT_MS)
            page = context.new_page()
            for name in SHOTS:
                visit(page, name, month, private_path)
                all_images_loaded(page)
                path = out / f"{name}-{language}-{width}.png"
                path.write_bytes(small_png(page.screenshot(full_page=True), height))
                written.append(path)
            context.close()
    return written


def main(argv: list[str]) -> None:
    out = Path(argv[0]) if argv else DEFAULT_OUT
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        data_dir = str(Path(scratch) / "data")
        server = Server(
            Path(scratch) / "server.log",
            AMBULANTE_DATA_DIR=data_dir,
            AMBULANTE_BOOKING_RATE_LIMIT="10000/minute",
        )
        try:
            wait_for_portraits(server.url)
            create_staff_account(data_dir)
            month = shown_month(today_local())
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                private_path = make_bookings(browser, server.url, month)
                written = shoot(browser, server.url, month, private_path, out)
                browser.close()
        finally:
            server.stop()
    for path in written:
        print(f"{path.stat().st_size:>8}  {path}")


if __name__ == "__main__":
    main(sys.argv[1:])
