"""Public pages are drawn once per change of the calendar: never stale, never anyone's own.

The database raises a version on every change to offerings, units, bookings and blackouts;
pages and offerings kept in memory are served only while it stays the same."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlalchemy import text, update

from booking import notify
from booking.models import Blackout, Offering
from tests.factories import api_body, form_data, hold, post_form, training_day

EN = {"Accept-Language": "en"}


def calendar_cell(page: str, day) -> str:  # type: ignore[no-untyped-def]
    """The opening tag of the day's cell, whose class says what the day is."""
    at = page.index(f'data-date="{day.isoformat()}"')
    return page[page.rindex("<td", 0, at) : at]


def test_a_hold_shows_at_once_on_a_calendar_drawn_before_it(client, session):
    start = training_day(60)
    path = f"/offerings/formation-bd-textile?month={start:%Y-%m}"
    assert "free" in calendar_cell(client.get(path, headers=EN).get_data(as_text=True), start)
    hold(session, offering="formation-bd-textile", start=start, end=start)
    hold(session, offering="formation-bd-textile", start=start, end=start)  # both teams
    cell = calendar_cell(client.get(path, headers=EN).get_data(as_text=True), start)
    assert "held" in cell


def test_a_blackout_written_straight_into_the_database_shows_at_once(client, session):
    day = training_day(60)
    path = f"/api/v1/availability?offering=formation-bd-textile&start={day}&end={day}"
    assert client.get(path).get_json()["days"][0]["status"] == "free"
    offering_id = session.scalar(
        text("SELECT id FROM offerings WHERE slug = 'formation-bd-textile'")
    )
    session.add(Blackout(offering_id=offering_id, start_date=day, end_date=day, reason="Congé"))
    session.commit()
    assert client.get(path).get_json()["days"][0]["status"] == "booked"


def test_an_offering_edited_in_the_database_shows_on_the_next_page(client, session):
    assert "New title" not in client.get("/", headers=EN).get_data(as_text=True)
    session.execute(
        update(Offering).where(Offering.slug == "expo-interieure").values(title_en="New title")
    )
    session.commit()
    assert "New title" in client.get("/", headers=EN).get_data(as_text=True)
    offerings = client.get("/api/v1/offerings").get_json()["offerings"]
    assert "New title" in [offering["title"]["en"] for offering in offerings]


def test_each_language_has_its_own_page(client):
    assert "Book the exhibition" in client.get("/", headers=EN).get_data(as_text=True)
    french = client.get("/", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert "Réserver l'exposition" in french and "Book the exhibition" not in french


def test_a_unions_message_is_never_kept_for_another_visitor(app, client):
    # A union's confirmation (a flash) waits in its session until the next page it opens.
    post_form(client, "/book/expo-interieure", form_data(email="ana@example.org"))
    with client.session_transaction() as union_session:
        union_session["_flashes"] = [("message", "sent to ana@example.org")]
    assert "ana@example.org" in client.get("/", headers=EN).get_data(as_text=True)
    stranger = app.test_client()
    assert "ana@example.org" not in stranger.get("/", headers=EN).get_data(as_text=True)


def test_the_hold_releases_the_write_lock_before_its_messages_are_written(app, client, monkeypatch):
    database = Path(app.config["DATA_DIR"]) / "ambulante.sqlite3"
    lock_was_free: list[bool] = []
    write_messages = notify.booking_requested

    def while_writing_messages(*args, **kwargs):  # type: ignore[no-untyped-def]
        other = sqlite3.connect(database, timeout=0.2, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")  # another union's hold would take the lock
            other.execute("ROLLBACK")
            lock_was_free.append(True)
        except sqlite3.OperationalError:
            lock_was_free.append(False)
        finally:
            other.close()
        return write_messages(*args, **kwargs)

    monkeypatch.setattr(notify, "booking_requested", while_writing_messages)
    assert client.post("/api/v1/bookings", json=api_body()).status_code == 201
    assert lock_was_free == [True]


def test_every_table_the_pages_show_raises_the_version(session):
    """A migration that rebuilds one of these tables on SQLite drops its triggers: this
    test says so before a stale page does."""
    names = session.scalars(
        text("SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE '%bump%'")
    ).all()
    events = ("insert", "update", "delete")
    calendar = ("offerings", "units", "bookings", "blackouts")
    library = ("portraits", "portrait_renditions")
    assert set(names) == {
        f"{table}_bump_calendar_version_{event}" for table in calendar for event in events
    } | {f"{table}_bump_library_version_{event}" for table in library for event in events}


def test_a_query_string_that_is_not_utf8_is_not_an_error(client):
    assert client.get("/api/v1/offerings?x=%ff").status_code == 200
