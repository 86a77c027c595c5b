"""The kiosk in a real browser, as a venue's screen runs it: it plays by itself and under a
visitor's hand and never shows a half-drawn image; with the server stopped it plays on from
its cache for more than a minute, and after a reload; once the server is back it drops a
portrait that was unpublished meanwhile and delivers the reports it queued; its QR codes read
as their short links, which lead where they should; axe-core finds nothing on it.

The kiosk's hook: document hears a "kiosk:slide" event at each transition (static/kiosk/kiosk.js).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import itertools
import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import zxingcpp
from PIL import Image
from playwright.sync_api import Browser, Page
from sqlalchemy import select

from core.clock import as_utc, now_utc, today_local
from core.database import engine_of, session_for
from kiosk.models import Heartbeat, Screen
from kiosk.screens import ScreenSettings, create_screen
from media import jobs
from media.models import Portrait
from media.portraits import PortraitText, public_portraits, update_portrait
from run import create_app
from tests.browser.conftest import TIMEOUT_MS, Visitor
from tests.browser.test_accessibility import assert_no_axe_violations, html_lang
from tests.factories import clear_ambulante_environment
from tests.servers import Server, read_back

pytestmark = pytest.mark.browser

PROJECT_ROOT = Path(__file__).resolve().parent.parent.parent
SECONDS_PER_SLIDE = 4  # the shortest a screen allows
REFRESH_SECONDS = 5
HEARTBEAT_SECONDS = 5
SHOWN = 4  # portraits on the venue's screen
OFFLINE_SECONDS = 66  # a minute of slides, and the last one's fade
DONATE_URL = "https://dons.example.org/faire-un-don?source=site"
SIGNUP_URL = "https://infolettre.example.org/inscription"
LANDSCAPE = {"width": 1280, "height": 720}

# Each transition as the page saw it when it happened: the image on screen complete, decoded
# (naturalWidth > 0) and the one shown.
WATCH_SLIDES = """
window.slides = [];
document.addEventListener("kiosk:slide", ({detail}) => window.slides.push({
    portrait: detail.portrait,
    version: detail.version,
    languages: detail.languages,
    src: detail.img.currentSrc,
    drawn: detail.img.complete && detail.img.naturalWidth > 0
        && detail.img.classList.contains("kiosk-shown"),
    at: Date.now(),
}));
"""


@dataclasses.dataclass
class Venue:
    server: Server
    data_dir: Path
    screen: str
    portraits: list[str]  # in the order the screen plays them

    @property
    def database_url(self) -> str:
        return f"sqlite:///{self.data_dir / 'ambulante.sqlite3'}"


def with_the_app(data_dir: Path, work: Any) -> Any:
    """Runs work(session) as a staff script on the venue's data dir would (the server may
    be stopped)."""
    with pytest.MonkeyPatch.context() as patch:
        clear_ambulante_environment(patch)
        patch.setenv("AMBULANTE_DATA_DIR", str(data_dir))
        app = create_app()
        try:
            with app.app_context(), session_for(app) as session:
                result = work(session)
                session.commit()
                return result
        finally:
            engine_of(app).dispose()


def set_up_the_venue(session: Any, data_dir: Path) -> tuple[str, list[str]]:
    """The demo portraits' sizes made, and a screen playing four of them, 4 s each."""
    jobs.work_due_jobs(session, data_dir, now_utc())
    portraits = public_portraits(session, today_local())[:SHOWN]
    settings = ScreenSettings(
        name="Salle des métallos",
        seconds_per_slide=SECONDS_PER_SLIDE,
        portrait_ids=tuple(portrait.id for portrait in portraits),
    )
    screen = create_screen(session, settings, "coordination@centre.example", now_utc())
    return screen.slug, [portrait.slug for portrait in portraits]


def unpublish(session: Any, slug: str) -> None:
    portrait = session.scalar(select(Portrait).where(Portrait.slug == slug))
    text = PortraitText(
        **{name: getattr(portrait, name) for name in PortraitText.__dataclass_fields__}
    )
    update_portrait(
        session,
        portrait.id,
        dataclasses.replace(text, published=False),
        "coordination@centre.example",
        now_utc(),
    )


@pytest.fixture(scope="module")
def venue(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Venue]:
    data_dir = tmp_path_factory.mktemp("kiosk-data")
    screen, portraits = with_the_app(data_dir, lambda session: set_up_the_venue(session, data_dir))
    server = Server(
        data_dir / "server.log",
        AMBULANTE_DATA_DIR=str(data_dir),
        AMBULANTE_KIOSK_REFRESH_SECONDS=str(REFRESH_SECONDS),
        AMBULANTE_KIOSK_HEARTBEAT_SECONDS=str(HEARTBEAT_SECONDS),
        AMBULANTE_DONATE_URL=DONATE_URL,
        AMBULANTE_SIGNUP_URL=SIGNUP_URL,
    )
    yield Venue(server, data_dir, screen, portraits)
    server.stop()


@pytest.fixture
def kiosk(browser: Browser, venue: Venue) -> Iterator[Any]:
    """Opens the venue's kiosk in a fresh browser profile: `kiosk(**context_options)`."""
    contexts = []

    def open_kiosk(**options: Any) -> Visitor:
        context = browser.new_context(
            base_url=venue.server.url, viewport=options.pop("viewport", LANDSCAPE), **options
        )
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        tab = Visitor(context.new_page())
        tab.page.add_init_script(WATCH_SLIDES)
        tab.page.goto(f"/kiosk/{venue.screen}")
        return tab

    yield open_kiosk
    for context in contexts:
        context.close()


def slides(page: Page) -> list[dict[str, Any]]:
    return page.evaluate("window.slides")


def wait_for_slides(page: Page, count: int, seconds: float, not_of: str | None = None) -> None:
    """Until `count` transitions (of a bundle version other than `not_of`) have been seen.
    (Functions, not expressions: the page's CSP forbids eval.)"""
    page.wait_for_function(
        "([count, old]) => window.slides.filter(s => s.version !== old).length >= count",
        arg=[count, not_of],
        timeout=seconds * 1000,
    )


def bundle_of(venue: Venue) -> dict[str, Any]:
    with urllib.request.urlopen(f"{venue.server.url}/kiosk/{venue.screen}/bundle.json") as answer:
        return json.load(answer)


def next_after(venue: Venue, portrait: str, steps: int = 1) -> str:
    order = venue.portraits
    return order[(order.index(portrait) + steps) % len(order)]


def test_kiosk_plays_by_itself_in_turn_in_each_language_and_under_a_visitors_hand(kiosk, venue):
    tab = kiosk()
    page = tab.page
    wait_for_slides(page, 3, 3 * SECONDS_PER_SLIDE + 5)  # the first, then two by itself
    assert [slide["portrait"] for slide in slides(page)[:3]] == venue.portraits[:3]
    assert [slide["languages"] for slide in slides(page)[:3]] == [["fr"], ["es"], ["en"]]
    caption = page.locator(".kiosk-caption")
    assert caption.get_attribute("lang") == html_lang(page) == slides(page)[-1]["languages"][0]

    def after(action: Any, expected_steps: int) -> None:
        before = slides(page)
        action()
        wait_for_slides(page, len(before) + 1, 3)
        assert slides(page)[-1]["portrait"] == next_after(
            venue, before[-1]["portrait"], expected_steps
        )

    middle = LANDSCAPE["width"] / 2
    after(lambda: page.keyboard.press("ArrowRight"), 1)
    after(lambda: page.keyboard.press("ArrowLeft"), -1)
    after(lambda: page.mouse.click(middle + 300, 300), 1)  # a tap on the right half
    after(lambda: page.mouse.click(middle - 300, 300), -1)  # on the left half

    def swipe_to_the_left() -> None:
        page.mouse.move(middle + 200, 400)
        page.mouse.down()
        page.mouse.move(middle - 200, 420, steps=5)
        page.mouse.up()

    after(swipe_to_the_left, 1)
    held = len(slides(page))
    page.wait_for_timeout(1.5 * SECONDS_PER_SLIDE * 1000)
    assert len(slides(page)) == held, "the loop went on right after a visitor's touch"
    seen = slides(page)
    assert all(slide["drawn"] for slide in seen), seen
    assert all("/media/" in slide["src"] for slide in seen)
    assert tab.console_errors == []


def test_kiosk_qr_codes_read_as_their_short_links_and_lead_to_their_targets(kiosk, venue):
    page = kiosk(viewport={"width": 1920, "height": 1080}).page
    wait_for_slides(page, 1, 10)
    shown = len(slides(page))
    page.keyboard.press("ArrowRight")  # a visitor's hand: the slide stays a minute
    wait_for_slides(page, shown + 1, 3)
    page.wait_for_timeout(500)  # the fade is over
    portrait = slides(page)[-1]["portrait"]
    bundle = bundle_of(venue)
    story = next(
        slide["story"]["url"] for slide in bundle["slides"] if slide["portrait"] == portrait
    )
    codes = {code["target"]: code["url"] for code in bundle["codes"]}

    shot = Image.open(io.BytesIO(page.screenshot(type="png")))
    read = sorted(code.text for code in zxingcpp.read_barcodes(shot))

    assert read == sorted([story, codes["donate"], codes["signup"]])
    public = urlsplit(venue.server.url)
    for url in read:
        assert urlsplit(url)[:2] == public[:2] and urlsplit(url).path.startswith("/q/")
    expected = {
        story: (f"{venue.server.url}/p/{portrait}", {"utm_content": [portrait]}),
        codes["donate"]: ("https://dons.example.org/faire-un-don", {"source": ["site"]}),
        codes["signup"]: ("https://infolettre.example.org/inscription", {}),
    }
    for url, (target, own_query) in expected.items():
        location = redirect_of(url)
        parts = urlsplit(location)
        query = parse_qs(parts.query)
        assert f"{parts.scheme}://{parts.netloc}{parts.path}" == target
        assert query["utm_source"] == ["ambulante"]
        assert query["utm_medium"] == ["qr"]
        assert query["utm_campaign"] == [venue.screen]
        for name, values in own_query.items():
            assert query[name] == values
        if url != story:
            assert "utm_content" not in query


class NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def redirect_of(url: str) -> str:
    """Where a phone that scanned `url` is sent (the 302's Location, not followed)."""
    opener = urllib.request.build_opener(NoRedirects)
    with pytest.raises(urllib.error.HTTPError) as answer:
        opener.open(url, timeout=10)
    with answer.value as refusal:  # the 302, as urllib reports an answer it does not follow
        assert refusal.code == 302
        return refusal.headers["Location"]


def test_kiosk_page_is_accessible(kiosk):
    tab = kiosk()
    page = tab.page
    wait_for_slides(page, 1, 10)
    page.wait_for_timeout(1200)  # the first fade is over
    assert_no_axe_violations(page)
    page.set_viewport_size({"width": 720, "height": 1280})  # a screen hung upright
    assert_no_axe_violations(page)
    assert tab.console_errors == []


def test_kiosk_cuts_instead_of_fading_for_reduced_motion(kiosk):
    fading, cutting = kiosk().page, kiosk(reduced_motion="reduce").page
    for page in (fading, cutting):
        wait_for_slides(page, 1, 10)
    duration = "getComputedStyle(document.querySelector('.kiosk-layer')).transitionDuration"
    assert fading.evaluate(duration) == "1s"
    assert cutting.evaluate(duration) == "0s"


def minute_of(seconds: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(seconds, dt.UTC).replace(second=0, microsecond=0)


def test_kiosk_keeps_playing_offline_and_picks_up_changes_when_the_server_is_back(kiosk, venue):
    """Runs last: it stops the server, unpublishes a portrait and starts the server again."""
    page = kiosk().page
    heartbeats: list[tuple[float, int, list[dict[str, Any]]]] = []  # answered: when, status, what
    page.on(
        "response",
        lambda answer: (
            answer.url.endswith("/heartbeat")
            and heartbeats.append(
                (time.time(), answer.status, answer.request.post_data_json["reports"])
            )
        ),
    )
    queue_key = f"kiosk:{venue.screen}:heartbeats"
    # The bundle is kept and the service worker answers for the page.
    page.wait_for_function(
        """key => navigator.serviceWorker.controller && localStorage.getItem(key)
            && window.slides.length""",
        arg=f"kiosk:{venue.screen}:version",
    )
    version = slides(page)[0]["version"]

    venue.server.stop()
    stopped = time.time()
    page.wait_for_timeout(OFFLINE_SECONDS * 1000)

    offline = [slide for slide in slides(page) if slide["at"] >= stopped * 1000]
    times = [stopped * 1000] + [slide["at"] for slide in offline]
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    assert max(gaps) < (SECONDS_PER_SLIDE + 3) * 1000, "the slideshow stalled"
    assert offline[-1]["at"] >= (stopped + 60) * 1000
    assert all(slide["drawn"] and "/media/" in slide["src"] for slide in offline), offline
    assert {slide["portrait"] for slide in offline} == set(venue.portraits)

    page.reload()  # the server still down
    wait_for_slides(page, 2, SECONDS_PER_SLIDE + 5)
    assert all(slide["drawn"] for slide in slides(page)), slides(page)
    queued = page.evaluate(f"JSON.parse(localStorage.getItem('{queue_key}'))")
    assert len(queued) >= 60 // HEARTBEAT_SECONDS  # made offline, waiting to be sent

    dropped = venue.portraits[1]
    with_the_app(venue.data_dir, lambda session: unpublish(session, dropped))
    venue.server.restart()
    restarted = time.time()

    # Within its refresh interval (and the new bundle's download), the kiosk plays the new one.
    wait_for_slides(page, 1, REFRESH_SECONDS + 5, not_of=version)
    still_shown = [portrait for portrait in venue.portraits if portrait != dropped]
    wait_for_slides(
        page, len(still_shown) + 1, (len(still_shown) + 2) * SECONDS_PER_SLIDE, not_of=version
    )
    later = [slide for slide in slides(page) if slide["version"] != version]
    assert {slide["portrait"] for slide in later} == set(still_shown)
    assert all(slide["drawn"] for slide in later), later
    kept = page.evaluate("caches.keys()")
    assert kept == [f"kiosk-{venue.screen}-{later[0]['version']}"], "the old bundle stayed"

    # The reports queued offline went out once the server answered, and it took them all.
    page.wait_for_function(
        "key => (JSON.parse(localStorage.getItem(key)) || []).length === 0",
        arg=queue_key,
        timeout=(HEARTBEAT_SECONDS + 5) * 1000,
    )
    answered = [(at, status, reports) for at, status, reports in heartbeats if at > restarted]
    assert all(status == 200 for _, status, _ in answered)
    sent = [report for _, _, reports in answered for report in reports]
    assert len(sent) >= len(queued)
    first_sent, _, first_reports = answered[0]  # the oldest first: made just after the stop
    oldest = max(report["seconds_ago"] for report in first_reports)
    assert oldest >= first_sent - stopped - 2 * HEARTBEAT_SECONDS
    minutes = {
        as_utc(minute)
        for (minute,) in read_back(
            venue.database_url,
            select(Heartbeat.minute).join(Screen).where(Screen.slug == venue.screen),
        )
    }
    # (but for a report made a second or less from a minute's end: its age is rounded)
    made = [report[0] / 1000 for report in queued]
    assert {minute_of(at) for at in made if 1 < at % 60 < 59} <= minutes
