"""A union's visit: offerings, the calendar, the request form, its private page, cancelling."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from icalendar import Calendar
from sqlalchemy import func, select

from booking.models import Booking
from core.models import OutboxMessage
from tests.factories import csrf_token, days_from_today, form_data, hold, post_form, training_day

D = dt.timedelta
EN = {"Accept-Language": "en"}


def private_path(response) -> str:
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    return response.headers["Location"]


def test_home_page_lists_free_windows_as_links_to_the_form(client):
    page = client.get("/", headers=EN).get_data(as_text=True)
    assert "Free soon" in page
    assert re.search(r'href="/book/expo-interieure\?month=\d{4}-\d{2}"', page)


def test_calendar_shows_held_days_and_navigates_by_month(client, session):
    start = training_day(60)
    hold(session, offering="formation-bd-textile", start=start, end=start)
    hold(session, offering="formation-bd-textile", start=start, end=start)
    month = start.strftime("%Y-%m")
    page = client.get(f"/offerings/formation-bd-textile?month={month}", headers=EN)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "<html" in html
    cell = re.search(rf'<td class="day day-(\w+)"[^>]*data-date="{start}"', html)
    assert cell and cell[1] == "held"


def test_calendar_navigation_returns_only_the_calendar_to_htmx(client):
    next_month = (days_from_today(0).replace(day=1) + D(32)).strftime("%Y-%m")
    fragment = client.get(
        f"/offerings/expo-interieure?month={next_month}",
        headers={"HX-Request": "true", "HX-Target": "calendar"},
    ).get_data(as_text=True)
    assert fragment.lstrip().startswith('<section id="calendar"')
    assert "<html" not in fragment
    assert 'id="calendar"' in fragment


@pytest.mark.parametrize("month", ["1999-01", "0000-01", "2027-13", "٢٠٢٧-٠١", "next"])
def test_a_month_out_of_range_is_a_clear_400(client, month):
    response = client.get(f"/offerings/expo-interieure?month={month}", headers=EN)
    assert response.status_code == 400
    assert "There is no calendar for that month" in response.get_data(as_text=True)


def test_union_books_and_lands_on_its_private_page(client, app):
    start = days_from_today(70)
    response = post_form(client, "/book/expo-interieure", form_data(start=start), headers=EN)
    page = client.get(private_path(response), headers=EN).get_data(as_text=True)
    assert "Your request is received" in page
    assert re.search(r"Request AMB-\d{4}-\d{4}", page)
    assert "requested — your dates are held" in page
    assert response.headers["Location"].startswith("/bookings/")
    outbox = list((app.config["DATA_DIR"] / "outbox").glob("*.eml"))
    assert len(outbox) == 2  # the union's acknowledgement and the staff notice


def test_live_check_says_free_or_offers_next_windows(client, session):
    start = training_day(60)
    url = f"/book/formation-bd-textile/check?start={start}&end={start}"
    assert "These dates are free." in client.get(url, headers=EN).get_data(as_text=True)
    hold(session, offering="formation-bd-textile", start=start, end=start)
    hold(session, offering="formation-bd-textile", start=start, end=start)
    answer = client.get(url, headers=EN).get_data(as_text=True)
    assert "already taken" in answer
    suggested = re.search(r'name="use_window" value="(\d{4}-\d{2}-\d{2})/\1"', answer)
    assert suggested and suggested[1] > start.isoformat()


def test_live_check_explains_rule_breaks(client):
    start = days_from_today(60)
    url = f"/book/expo-interieure/check?start={start}&end={start}"
    assert "at least 3 days" in client.get(url, headers=EN).get_data(as_text=True)


def test_taken_dates_on_submit_are_a_409_with_the_form_kept(client, session):
    start = training_day(60)
    for _ in range(2):
        hold(session, offering="formation-bd-textile", start=start, end=start)
    data = form_data("formation-bd-textile", start=start, end=start)
    response = post_form(client, "/book/formation-bd-textile", data, headers=EN)
    page = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "taken in the meantime" in page
    assert 'value="Syndicat des cols bleus"' in page
    assert session.scalar(select(func.count()).select_from(Booking)) == 2


def test_union_cancels_from_its_private_page_and_the_dates_free_up(client, session):
    start = days_from_today(60)
    data = form_data("expo-exterieure", start=start, end=start + D(9))
    path = private_path(post_form(client, "/book/expo-exterieure", data, headers=EN))
    confirm = client.get(f"{path}/cancel", headers=EN).get_data(as_text=True)
    assert "will be freed at once" in confirm
    done = post_form(client, f"{path}/cancel", {}, headers=EN)
    page = client.get(private_path(done), headers=EN).get_data(as_text=True)
    assert "cancelled and its dates are free again" in page
    assert "Cancel this request" not in page
    again = post_form(client, "/book/expo-exterieure", data, headers=EN)
    assert again.status_code == 303
    staff_notices = session.scalars(select(OutboxMessage.subject)).all()
    assert any("annulée" in subject for subject in staff_notices)


def test_private_page_offers_an_ics_of_the_held_dates(client):
    start = days_from_today(80)
    path = private_path(post_form(client, "/book/expo-interieure", form_data(start=start)))
    response = client.get(f"{path}/calendar.ics")
    assert response.mimetype == "text/calendar"
    [event] = Calendar.from_ical(response.data).walk("VEVENT")
    assert event.decoded("dtstart") == start
    assert event.decoded("dtend") == start + D(5)  # the last day is included
    assert str(event["status"]) == "TENTATIVE"


def test_a_wrong_private_link_is_a_404(client):
    assert client.get("/bookings/not-a-real-token").status_code == 404
    assert client.get("/bookings/not-a-real-token/calendar.ics").status_code == 404
    token = csrf_token(client, "/book/expo-interieure")
    cancel = client.post("/bookings/not-a-real-token/cancel", data={"csrf_token": token})
    assert cancel.status_code == 404


def test_a_cancelled_request_says_it_can_no_longer_be_cancelled(client, session):
    path = private_path(post_form(client, "/book/expo-interieure", form_data()))
    post_form(client, f"{path}/cancel", {})
    token = csrf_token(client, "/book/expo-interieure")  # the cancelled page has no form left
    again = client.post(
        f"{path}/cancel", data={"csrf_token": token}, headers=EN, follow_redirects=True
    )
    assert "This request can no longer be cancelled." in again.get_data(as_text=True)
    cancelled_notices = session.scalars(
        select(OutboxMessage.subject).where(OutboxMessage.subject.contains("annulée"))
    ).all()
    # The union's and the staff's, once each: the refused second cancel told nobody.
    assert len(cancelled_notices) == 2


def test_private_page_is_an_html_page_never_cached(client):
    path = private_path(post_form(client, "/book/expo-interieure", form_data()))
    for private in (f"{path}/cancel", f"{path}/calendar.ics"):
        assert client.get(private).headers["Cache-Control"] == "no-store"
    response = client.get(path)
    assert response.mimetype == "text/html"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["Cache-Control"] == "no-store"


def test_following_a_suggested_window_says_at_once_that_it_is_free(client):
    start = training_day(60)
    url = f"/book/formation-bd-textile?start={start}&end={start}"
    page = client.get(url, headers=EN).get_data(as_text=True)
    assert "These dates are free." in page
    assert f'value="{start}"' in page


def test_too_many_requests_get_a_429_that_says_when_to_retry(app, client):
    app.config["RATELIMIT_BOOKING"] = "2/hour"
    for offset in (60, 70):
        start = days_from_today(offset)
        post_form(client, "/book/expo-interieure", form_data(start=start))
    response = post_form(
        client, "/book/expo-interieure", form_data(start=days_from_today(80)), headers=EN
    )
    assert response.status_code == 429
    retry = int(response.headers["Retry-After"])
    assert 0 < retry <= 3600
    minutes = re.search(r"try again in (\d+) minutes", response.get_data(as_text=True))
    assert minutes and int(minutes[1]) == -(-retry // 60)


def test_union_losing_every_race_is_asked_to_send_again(client, session, monkeypatch):
    """If other requests win every attempt at that very moment, the database refuses each
    insert; the union is told to send again (503), never shown an error page, and nothing
    is held for it."""
    start = training_day(60)
    taken = hold(session, offering="formation-bd-textile", start=start, end=start).booking
    monkeypatch.setattr("booking.service.free_unit_id", lambda *_args: taken.unit_id)
    data = form_data("formation-bd-textile", start=start, end=start)
    response = post_form(client, "/book/formation-bd-textile", data, headers=EN)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "2"
    assert "please send yours again" in response.get_data(as_text=True)
    assert session.scalar(select(func.count()).select_from(Booking)) == 1
