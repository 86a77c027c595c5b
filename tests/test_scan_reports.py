"""Staff read what the QR codes did: scans per venue (and per hundred visitors when the union
gave its audience), per screen beside its hours online, per portrait and per target, over
Montréal days they choose, with charts and a CSV that is the database's own counts; a bad
range is refused with a message; a union sees its own venue's totals once the exhibition
has left, and never another venue's."""

from __future__ import annotations

import csv
import datetime as dt
import html
import io
import re
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from booking import decisions
from booking.models import Booking
from booking.service import renew_manage_token
from booking.status import BookingStatus
from core.clock import LOCAL_TIMEZONE, now_utc, today_local
from kiosk.links import count_scan, links_of, portrait_purpose
from kiosk.models import Heartbeat, QrLink, ScanCount, Screen
from kiosk.report_service import MAX_DAYS
from kiosk.screens import ScreenSettings, create_screen, default_screen
from kiosk.targets import all_targets
from media.models import Portrait
from tests.factories import days_from_today, hold

EN = {"Accept-Language": "en"}
FR = {"Accept-Language": "fr"}
PAGE = "/staff/scans"
CSV_URL = "/staff/scans.csv"
HEADER = ["date", "code", "target", "screen", "booking", "portrait", "scans"]


def ago(days: int) -> dt.date:
    return today_local() - dt.timedelta(days=days)


@dataclass
class Exhibition:
    """Two screens (one at a union's venue of 80 people, one serving none), another venue's
    printed codes, and a portrait whose code is on all of them."""

    venue: Booking  # audience 80, served by `hall` for the last six days
    printed_venue: Booking  # audience 200, its printed codes only
    hall: Screen
    lobby: Screen  # serves no venue
    portrait: Portrait
    links: dict[str, QrLink]  # "<owner>:<purpose>"


def scan(session: Session, link: QrLink, day: dt.date, times: int) -> None:
    for _ in range(times):
        count_scan(session, link.id, day)


@pytest.fixture
def exhibition(session) -> Exhibition:
    venue = hold(
        session,
        offering="expo-exterieure",
        start=days_from_today(60),
        end=days_from_today(66),
        audience=80,
    ).booking
    # The hall's venue is under way: it has had the screen for the last six days (the outdoor
    # set: the indoor one's stories move their venues to past days).
    session.execute(
        update(Booking)
        .where(Booking.id == venue.id)
        .values(
            start_date=ago(4),
            end_date=days_from_today(1),
            blocked_start=ago(6),
            blocked_end=days_from_today(3),
        )
    )
    printed_venue = hold(
        session,
        start=days_from_today(120),
        organization="Syndicat des travailleuses du textile",
        audience=200,
    ).booking
    hall = create_screen(
        session, ScreenSettings(name="Salle des métallos", booking_id=venue.id), "t", now_utc()
    )
    lobby = create_screen(session, ScreenSettings(name="Hall du local 1500"), "t", now_utc())
    session.commit()
    portrait = session.scalars(select(Portrait).order_by(Portrait.id)).first()
    assert portrait is not None, "the demo portraits are in the test database"
    targets = all_targets(session)
    links = {}
    for name, owner in (("hall", hall), ("lobby", lobby), ("printed", printed_venue)):
        for purpose, link in links_of(session, owner, targets, [portrait], now_utc()).items():
            links[f"{name}:{purpose}"] = link
    story = portrait_purpose(portrait)
    # The counts the stories below expect.
    scan(session, links["hall:donate"], ago(0), 5)
    scan(session, links["hall:donate"], ago(3), 2)
    scan(session, links["hall:donate"], ago(40), 11)  # before its venue, and the thirty days
    scan(session, links[f"hall:{story}"], ago(0), 3)
    scan(session, links["lobby:signup"], ago(1), 4)
    scan(session, links[f"lobby:{story}"], ago(2), 1)
    session.add(ScanCount(link_id=links["printed:donate"].id, day=ago(0), scans=6))
    session.add(ScanCount(link_id=links[f"printed:{story}"].id, day=ago(5), scans=2))
    session.commit()
    return Exhibition(venue, printed_venue, hall, lobby, portrait, links)


def text_of(fragment: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def table(page: str, table_id: str) -> dict[str, list[str]]:
    """A report table's rows: the row's heading, and its cells' text."""
    found = re.search(rf'<table[^>]*id="{table_id}".*?</table>', page, re.S)
    assert found, f"no table {table_id}"
    rows = {}
    for row in re.findall(r"<tr>(.*?)</tr>", found[0], re.S):
        heading = re.search(r'<th scope="row">(.*?)</th>', row, re.S)
        if heading:
            rows[text_of(heading[1])] = [
                text_of(cell) for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
            ]
    return rows


def scans_in(rows: dict[str, list[str]], heading_part: str) -> str:
    matches = [cells for heading, cells in rows.items() if heading_part in heading]
    assert len(matches) == 1, (heading_part, rows)
    return matches[0][-1] if len(matches[0]) == 1 else matches[0]  # type: ignore[return-value]


def report(client, headers: dict[str, str] = EN, **query: str) -> str:  # type: ignore[no-untyped-def]
    response = client.get(PAGE, query_string=query, headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_data(as_text=True)


# --- The report page ----------------------------------------------------------------------


def test_staff_read_the_last_thirty_days_per_venue_with_scans_per_hundred_visitors(
    staff_client, exhibition
):
    page = report(staff_client)
    venues = table(page, "venues")

    assert f"Scans from {ago(29):%B} {ago(29).day}, {ago(29).year}" in text_of(page)
    assert "<strong>23</strong>" in page  # every scan of the last thirty days
    hall = next(cells for name, cells in venues.items() if exhibition.venue.reference in name)
    assert hall == ["10", "80", "12.5"]  # 5 + 2 + 3 scans for 80 people
    printed = next(
        cells for name, cells in venues.items() if exhibition.printed_venue.reference in name
    )
    assert printed == ["8", "200", "4.0"]
    assert "Syndicat des travailleuses du textile" in str(venues)
    assert venues["No venue"][0] == "5"  # the lobby's screen serves none


def test_staff_read_scans_per_screen_portrait_and_target(staff_client, exhibition):
    page = report(staff_client)

    screens = table(page, "screens")
    assert screens["Salle des métallos"][1:3] == ["10", "0.0"]
    assert screens["Hall du local 1500"][1:3] == ["5", "0.0"]
    assert screens["Printed cards and posters"][1] == "8"
    portraits = table(page, "portraits")
    assert list(portraits.values()) == [["6"]]  # 3 + 1 + 2, wherever its code was
    assert exhibition.portrait.slug in next(iter(portraits))
    targets = table(page, "targets")
    assert targets == {
        "Donate": ["13"],
        "Portraits' stories": ["6"],
        "Subscribe to the newsletter": ["4"],
        "Become a member": ["0"],
    }
    assert list(targets) == sorted(targets, key=lambda name: -int(targets[name][0]))


def test_staff_read_figures_and_days_in_their_language(staff_client, exhibition):
    page = report(staff_client, FR)

    hall = next(
        cells for name, cells in table(page, "venues").items() if exhibition.venue.reference in name
    )
    assert hall[-1] == "12,5"
    assert table(page, "targets")["Faire un don"] == ["13"]
    assert '<html lang="fr">' in page


def test_staff_choose_the_days_and_only_those_days_count(staff_client, exhibition):
    earlier = report(staff_client, **{"from": ago(45).isoformat(), "to": ago(35).isoformat()})
    yesterday_on = report(staff_client, **{"from": ago(1).isoformat(), "to": ago(0).isoformat()})
    one_day = report(staff_client, **{"from": ago(3).isoformat(), "to": ago(3).isoformat()})

    assert "<strong>11</strong>" in earlier  # the hall's donations of forty days ago alone
    assert table(earlier, "screens")["Salle des métallos"][1] == "11"
    assert "<strong>18</strong>" in yesterday_on  # 5 + 3 + 4 + 6
    assert table(yesterday_on, "targets")["Donate"] == ["11"]
    assert "<strong>2</strong>" in one_day
    assert "No portrait's code was scanned in these days." in one_day


def test_staff_read_each_screens_hours_online_in_montreal_days(staff_client, session, exhibition):
    def minutes(day: dt.date, hour: int, first: int, count: int) -> list[Heartbeat]:
        start = dt.datetime.combine(day, dt.time(hour, first), LOCAL_TIMEZONE).astimezone(dt.UTC)
        return [
            Heartbeat(screen_id=exhibition.hall.id, minute=start + dt.timedelta(minutes=n))
            for n in range(count)
        ]

    session.add_all(minutes(ago(0), 1, 0, 90))  # an hour and a half today
    session.add_all(minutes(ago(29), 0, 0, 30))  # the first half hour of the first day
    # The evening before the first day: already the first day in UTC, not in Montréal.
    session.add_all(minutes(ago(30), 23, 0, 45))
    session.add_all(minutes(ago(40), 12, 0, 60))
    session.commit()

    page = report(staff_client)

    assert table(page, "screens")["Salle des métallos"][1:3] == ["10", "2.0"]
    assert table(page, "screens")["Hall du local 1500"][2] == "0.0"


def test_the_reports_page_draws_its_charts_as_images_with_titles(staff_client, exhibition):
    page = report(staff_client)

    charts = re.findall(r"<svg [^>]*>.*?</svg>", page, re.S)
    assert len(charts) == 5  # per day, venue, screen, portrait, target
    for chart in charts:
        assert 'role="img"' in chart and "<title id=" in chart and "<desc id=" in chart
        assert "style=" not in chart and "<script" not in chart
    daily = charts[0]
    assert daily.count("<circle") == 30 and "<polyline" in daily
    venues = next(chart for chart in charts if 'id="chart-venues"' in chart)
    assert venues.count('class="chart-bar"') == 3
    assert "style=" not in page.split("<main", 1)[1]  # no inline style anywhere in the page


def test_staff_see_an_empty_period_without_any_error(staff_client, exhibition):
    page = report(staff_client, **{"from": ago(400).isoformat(), "to": ago(300).isoformat()})

    assert "<strong>0</strong>" in page
    assert "No code was scanned in these days." in page


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"from": "2026-13-01"}, "The date could not be read"),
        ({"to": "yesterday"}, "The date could not be read"),
        ({"from": "2026-02-30"}, "The date could not be read"),
        ({"from": "２０２６-01-01"}, "The date could not be read"),
        ({"from": "2026-01-01\x00"}, "The date could not be read"),
        ({"from": "9" * 5000}, "The date could not be read"),
        ({"from": "1999-12-31"}, "Choose a day between January 1, 2000 and"),
        ({"to": "9999-12-31"}, "Choose a day between January 1, 2000 and"),
        ({"from": "0001-01-01", "to": "0001-01-05"}, "Choose a day between"),
        ({"from": ago(1).isoformat(), "to": ago(5).isoformat()}, "The last day comes before"),
        ({"from": "2023-01-01", "to": "2025-12-31"}, f"at most {MAX_DAYS} days"),
    ],
)
def test_staff_get_a_clear_message_for_days_that_make_no_report(staff_client, query, message):
    page = staff_client.get(PAGE, query_string=query, headers=EN)
    export = staff_client.get(CSV_URL, query_string=query, headers=EN)

    assert page.status_code == 422
    assert message in html.unescape(page.get_data(as_text=True))
    assert 'aria-invalid="true"' in page.get_data(as_text=True)
    assert export.status_code == 422
    assert message in html.unescape(export.get_data(as_text=True))
    assert "Content-Disposition" not in export.headers


def test_staff_read_the_refusal_in_french(staff_client):
    page = staff_client.get(PAGE, query_string={"from": ago(1), "to": ago(5)}, headers=FR)

    assert page.status_code == 422
    assert "Le dernier jour vient avant le premier" in html.unescape(page.get_data(as_text=True))


def test_a_range_of_exactly_two_years_is_shown(staff_client):
    first = ago(MAX_DAYS - 1)
    assert report(staff_client, **{"from": first.isoformat(), "to": ago(0).isoformat()})
    too_long = {"from": ago(MAX_DAYS).isoformat(), "to": ago(0).isoformat()}
    assert staff_client.get(PAGE, query_string=too_long).status_code == 422


def test_anonymous_visitors_are_sent_to_sign_in(client):
    for url in (PAGE, CSV_URL, f"{PAGE}?from=2026-01-01"):
        response = client.get(url)
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/staff/login")


def test_staff_find_the_report_in_their_navigation(staff_client):
    french = staff_client.get("/staff/screens", headers=FR).get_data(as_text=True)
    english = staff_client.get("/staff/screens", headers=EN).get_data(as_text=True)

    assert f'href="{PAGE}">Lectures QR</a>' in french
    assert f'href="{PAGE}">QR scans</a>' in english


# --- The CSV export -----------------------------------------------------------------------


def read_csv(client, **query: Any) -> list[list[str]]:  # type: ignore[no-untyped-def]
    response = client.get(CSV_URL, query_string=query)
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


def counts_in_database(session: Session, first: dt.date, last: dt.date) -> list[list[str]]:
    """The same rows read through the models: each day's count of each link in the days."""
    session.rollback()
    rows = []
    for count in session.scalars(select(ScanCount).where(ScanCount.day.between(first, last))):
        link = session.get(QrLink, count.link_id)
        assert link is not None
        venue = link.booking or (link.screen.booking if link.screen else None)
        if (
            link.booking is None
            and venue
            and not venue.blocked_start <= count.day <= venue.blocked_end
        ):
            venue = None  # a screen's scan on a day it was not at its venue
        rows.append(
            [
                count.day.isoformat(),
                link.code,
                link.target,
                link.screen.slug if link.screen else "",
                venue.reference or "" if venue else "",
                link.portrait.slug if link.portrait else "",
                str(count.scans),
            ]
        )
    return sorted(rows)


def test_the_csv_is_the_databases_counts_day_by_day(staff_client, session, exhibition):
    rows = read_csv(staff_client)

    assert rows[0] == HEADER
    assert sorted(rows[1:]) == counts_in_database(session, ago(29), ago(0))
    assert len(rows) == 1 + 7  # seven (day, code) pairs in the last thirty days
    printed = next(row for row in rows if row[1] == exhibition.links["printed:donate"].code)
    assert printed == [
        ago(0).isoformat(),
        exhibition.links["printed:donate"].code,
        "donate",
        "",
        exhibition.printed_venue.reference,
        "",
        "6",
    ]
    story = next(row for row in rows if row[3] == exhibition.hall.slug and row[2] == "portrait")
    assert story[4:] == [exhibition.venue.reference, exhibition.portrait.slug, "3"]
    lobby = next(row for row in rows if row[3] == exhibition.lobby.slug and row[2] == "signup")
    assert lobby[4] == ""  # a screen serving no venue


def test_the_csv_follows_the_chosen_days(staff_client, session, exhibition):
    first, last = ago(45), ago(2)
    rows = read_csv(staff_client, **{"from": first.isoformat(), "to": last.isoformat()})

    assert sorted(rows[1:]) == counts_in_database(session, first, last)
    assert {row[0] for row in rows[1:]} == {
        ago(40).isoformat(),
        ago(5).isoformat(),
        ago(3).isoformat(),
        ago(2).isoformat(),
    }
    assert "attachment" in staff_client.get(CSV_URL).headers["Content-Disposition"]


def test_the_csv_never_hands_a_spreadsheet_a_formula(staff_client, session, exhibition):
    session.execute(
        update(Screen)
        .where(Screen.id == exhibition.hall.id)
        .values(slug='=HYPERLINK("http://evil.example","x")')
    )
    session.execute(
        update(Portrait).where(Portrait.id == exhibition.portrait.id).values(slug="@SUM(1+1)")
    )
    session.commit()

    rows = read_csv(staff_client)

    cells = [cell for row in rows for cell in row]
    assert '\'=HYPERLINK("http://evil.example","x")' in cells
    assert "'@SUM(1+1)" in cells
    assert not any(cell.startswith(("=", "+", "-", "@")) for cell in cells)


# --- The union's own page -------------------------------------------------------------------


def union_page(client, token: str, headers: dict[str, str] = EN) -> str:  # type: ignore[no-untyped-def]
    response = client.get(f"/bookings/{token}", headers=headers)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def decided(session: Session, booking: Booking, status: BookingStatus) -> None:
    decisions.decide(session, booking.reference, status, "", "marie@centre.example", now_utc())
    session.commit()


def moved_to_the_past(session: Session, booking: Booking, days_ago: int) -> None:
    """The exhibition was there a while ago (holds can only be made for days to come)."""
    start = ago(days_ago)
    session.execute(
        update(Booking)
        .where(Booking.id == booking.id)
        .values(
            start_date=start,
            end_date=start + dt.timedelta(days=4),
            blocked_start=start - dt.timedelta(days=2),
            blocked_end=start + dt.timedelta(days=6),
        )
    )
    session.commit()


def test_union_sees_its_own_venues_scans_once_the_exhibition_has_left(client, session, exhibition):
    held = hold(session, start=days_from_today(200), organization="Syndicat du transport")
    booking = held.booking
    screen = create_screen(
        session, ScreenSettings(name="Garage Legendre", booking_id=booking.id), "t", now_utc()
    )
    session.commit()
    own = links_of(session, screen, all_targets(session), [exhibition.portrait], now_utc())
    decided(session, booking, BookingStatus.CONFIRMED)
    moved_to_the_past(session, booking, 12)  # held from ago(14) to ago(6)
    scan(session, own["donate"], ago(10), 4)
    scan(session, own["signup"], ago(9), 2)
    scan(session, own[portrait_purpose(exhibition.portrait)], ago(8), 3)
    scan(session, own["donate"], ago(30), 50)  # the screen at another venue before

    page = text_of(union_page(client, held.manage_token))
    french = text_of(union_page(client, held.manage_token, FR))

    assert "What your visitors scanned" in page
    assert "Donate 4 Subscribe to the newsletter 2 Portraits' stories 3 In all 9" in page
    assert "Faire un don 4" in french and "Récits des portraits 3" in french
    assert "Become a member" not in page  # nobody scanned it


def test_union_sees_nothing_before_the_exhibition_has_left(client, session, exhibition):
    held = hold(session, start=days_from_today(200), organization="Syndicat du transport")
    session.execute(
        update(Screen).where(Screen.id == exhibition.lobby.id).values(booking_id=held.booking.id)
    )
    session.commit()
    links = links_of(session, held.booking, all_targets(session), [], now_utc())
    scan(session, links["donate"], ago(0), 3)

    requested = union_page(client, held.manage_token)
    decided(session, held.booking, BookingStatus.CONFIRMED)
    confirmed = union_page(client, held.manage_token)
    decided(session, held.booking, BookingStatus.COMPLETED)
    completed = text_of(union_page(client, held.manage_token))

    assert "What your visitors scanned" not in requested
    assert "What your visitors scanned" not in confirmed
    assert "Donate 3 In all 3" in completed  # the printed poster's scans (the screen's: not then)


def test_union_sees_nothing_when_nobody_scanned_or_for_a_training(client, session, exhibition):
    quiet = hold(session, start=days_from_today(200))
    decided(session, quiet.booking, BookingStatus.CONFIRMED)
    moved_to_the_past(session, quiet.booking, 20)
    training = hold(
        session,
        offering="formation-bd-textile",
        start=days_from_today(210),
        end=days_from_today(210),
    )
    links = links_of(session, training.booking, all_targets(session), [], now_utc())
    scan(session, links["donate"], ago(0), 3)
    decided(session, training.booking, BookingStatus.CONFIRMED)
    decided(session, training.booking, BookingStatus.COMPLETED)

    assert "What your visitors scanned" not in union_page(client, quiet.manage_token)
    assert "What your visitors scanned" not in union_page(client, training.manage_token)


def test_union_never_sees_another_venues_scans(client, session, exhibition):
    """The other venue (audience 80) is served by the hall; the printed venue's codes are
    its own: each union reads its own figures only."""
    decided(session, exhibition.printed_venue, BookingStatus.CONFIRMED)
    moved_to_the_past(session, exhibition.printed_venue, 7)  # held from ago(9) to ago(1)
    token = renew_manage_token(session, exhibition.printed_venue.reference).manage_token
    session.commit()

    page = text_of(union_page(client, token))

    # Its printed codes: 6 donations today, 2 stories five days ago; nothing of the hall's
    # 10 scans, the lobby's 5, or the default screen's.
    assert "Donate 6 Portraits' stories 2 In all 8" in page
    assert "Subscribe" not in page


def test_the_default_screen_is_in_the_report_even_without_scans(staff_client, session):
    page = report(staff_client)

    assert default_screen(session).name in table(page, "screens")
