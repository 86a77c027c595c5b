"""Fixtures: a fresh app and database per test, a client, factories for requests and bookings."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import re
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from booking.service import BookingRequest, HeldBooking, hold_dates, today_in_montreal
from core.app import create_app
from core.database import engine_of, session_for

TEST_DATABASE_URL = os.environ.get("AMBULANTE_TEST_DATABASE_URL")


@pytest.fixture
def app(tmp_path, monkeypatch) -> Iterator[Flask]:
    for name in list(os.environ):
        if name.startswith("AMBULANTE_") and name != "AMBULANTE_TEST_DATABASE_URL":
            monkeypatch.delenv(name)
    monkeypatch.setenv("AMBULANTE_DATA_DIR", str(tmp_path / "data"))
    app = create_app({"TESTING": True, "RATELIMIT_BOOKING": "1000/minute"})
    yield app
    engine_of(app).dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def session(app: Flask) -> Iterator[Any]:
    """A session of the test's own, outside any request (like a staff script would have)."""
    with session_for(app) as db_session:
        yield db_session


@pytest.fixture
def today() -> dt.date:
    return today_in_montreal()


def days_from_today(days: int) -> dt.date:
    return today_in_montreal() + dt.timedelta(days=days)


# Who is asking, where and for whom: a union's answers to the form.
A_UNION: dict[str, Any] = dict(
    organization="Syndicat des cols bleus",
    contact_name="Ana Pérez",
    email="ana@example.org",
    phone="514-383-2266",
    venue="Salle des métallos",
    address="1601 av. De Lorimier",
    city="Montréal",
    audience=80,
    language="fr",
    notes="",
)


def request_for(
    offering: str = "expo-interieure",
    start: dt.date | None = None,
    end: dt.date | None = None,
    **overrides: Any,
) -> BookingRequest:
    """A valid request a union could send; change any field with overrides."""
    start = start or days_from_today(60)
    end = end or start + dt.timedelta(days=4)
    fields: dict[str, Any] = dict(offering=offering, start=start, end=end, **A_UNION)
    if offering.startswith("expo"):
        setting = "outdoor" if offering == "expo-exterieure" else "indoor"
        fields.update(wall_metres=25, venue_setting=setting, secure_storage=True)
    fields.update(overrides)
    return BookingRequest(**fields)


def api_body(
    offering: str = "expo-interieure",
    start: dt.date | None = None,
    end: dt.date | None = None,
    **overrides: Any,
) -> dict[str, Any]:
    """The same valid request, as a script sends it to POST /api/v1/bookings."""
    body = dataclasses.asdict(request_for(offering, start, end, **overrides))
    body.update(start=body["start"].isoformat(), end=body["end"].isoformat())
    return {name: value for name, value in body.items() if value is not None}


def hold(session, **kwargs: Any) -> HeldBooking:
    """Hold dates through the real rules and commit, as a union's request would."""
    held = hold_dates(session, request_for(**kwargs), today_in_montreal(), dt.datetime.now(dt.UTC))
    session.commit()
    return held


def form_data(offering: str = "expo-interieure", **overrides: Any) -> dict[str, str]:
    """The request form as a browser would post it."""
    request = request_for(
        offering, **{k: v for k, v in overrides.items() if k in BookingRequest.__dataclass_fields__}
    )
    data = {
        "start": request.start.isoformat(),
        "end": request.end.isoformat(),
        "organization": request.organization,
        "contact_name": request.contact_name,
        "email": request.email,
        "phone": request.phone,
        "venue": request.venue,
        "address": request.address,
        "city": request.city,
        "audience": str(request.audience),
        "language": request.language,
        "notes": request.notes,
    }
    if request.wall_metres is not None:
        data.update(
            wall_metres=str(request.wall_metres),
            venue_setting=request.venue_setting,
            secure_storage="yes" if request.secure_storage else "no",
        )
    data.update(
        {k: v for k, v in overrides.items() if k not in BookingRequest.__dataclass_fields__}
    )
    return data


def csrf_token(client: FlaskClient, url: str) -> str:
    page = client.get(url).get_data(as_text=True)
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page) or re.search(
        r'name="csrf_token" value="([^"]+)"', page
    )
    assert match, f"no CSRF token on {url}"
    return match[1]


def post_form(client: FlaskClient, url: str, data: dict[str, str], **kwargs: Any):
    return client.post(url, data={**data, "csrf_token": csrf_token(client, url)}, **kwargs)


@pytest.fixture
def postgres_url() -> str:
    """The test PostgreSQL database, emptied to a bare public schema; skips without one."""
    if not TEST_DATABASE_URL:
        pytest.skip("AMBULANTE_TEST_DATABASE_URL is not set")
    from sqlalchemy import create_engine, text

    # Bounded waits: a server left holding locks fails the test instead of hanging it.
    engine = create_engine(
        TEST_DATABASE_URL, connect_args={"connect_timeout": 10, "options": "-c lock_timeout=10s"}
    )
    try:
        with engine.begin() as connection:
            # A server killed mid-request can leave its backend waiting on a lock (it only
            # notices its client is gone once it stops waiting): end such leftovers first.
            connection.execute(
                text(
                    "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND usename = current_user "
                    "AND pid <> pg_backend_pid()"
                )
            )
            # Drops the btree_gist extension too; the migration creates it again.
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
    finally:
        engine.dispose()
    return TEST_DATABASE_URL
