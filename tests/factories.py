"""Test helpers that build things: a union's answers, requests, held bookings, form posts,
and a clean environment for an app of the test's own."""

from __future__ import annotations

import datetime as dt
import functools
import io
import os
import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image
from sqlalchemy.orm import Session

from booking.holidays import holidays_between
from booking.schema import BookingRequest
from booking.service import HeldBooking, hold_dates
from core.clock import now_utc, today_local
from core.staff.accounts import hash_password
from core.staff.models import Role, StaffUser
from media import jobs
from media.ingest import clean_upload
from media.models import Portrait
from media.portraits import PortraitText, add_portrait


def days_from_today(days: int) -> dt.date:
    return today_local() + dt.timedelta(days=days)


def training_day(days: int) -> dt.date:
    """About `days` from today, on a day the training is given: the first that is not a
    Québec statutory holiday (the demo training is closed on them, booking.holidays)."""
    day = days_from_today(days)
    while holidays_between(day, day, "en"):
        day += dt.timedelta(days=1)
    return day


def clear_ambulante_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No AMBULANTE_* setting of the machine's reaches the app (the test database's stays)."""
    for name in list(os.environ):
        if name.startswith("AMBULANTE_") and name != "AMBULANTE_TEST_DATABASE_URL":
            monkeypatch.delenv(name)


def environment_for_server(**settings: str) -> dict[str, str]:
    """The environment of a server process: the machine's, less its AMBULANTE_* settings."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("AMBULANTE_")}
    env.update(PYTHONUNBUFFERED="1", **settings)
    return env


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


# What each demo offering asks of its own (booking.schema.Trait), answered. A request
# carries them all: an offering ignores the answers it does not ask for.
OWN_ANSWERS: dict[str, dict[str, Any]] = {
    "expo-interieure": dict(wall_metres=25, secure_storage=True),
    "expo-exterieure": dict(
        site_ground="paved",
        site_permits="obtained",
        site_power=True,
        site_guard="Le service de sécurité de la ville",
    ),
    "formation-bd-textile": dict(start_time="09:30", participants=25),
}
TRAINING = "formation-bd-textile"


def request_fields(
    offering: str = "expo-interieure",
    start: dt.date | None = None,
    end: dt.date | None = None,
    **overrides: Any,
) -> dict[str, Any]:
    """A valid request a union could send, as plain values; change any with overrides.
    The training is one day, on a day it is given."""
    start = start or (training_day(60) if offering == TRAINING else days_from_today(60))
    end = end or start + dt.timedelta(days=0 if offering == TRAINING else 4)
    fields: dict[str, Any] = dict(offering=offering, start=start, end=end, **A_UNION)
    for answers in OWN_ANSWERS.values():
        fields.update(answers)
    fields.update(overrides)
    return fields


def request_for(*args: Any, **overrides: Any) -> BookingRequest:
    """The same request, read by the schema."""
    return BookingRequest.model_validate(request_fields(*args, **overrides))


def api_body(*args: Any, **overrides: Any) -> dict[str, Any]:
    """The same valid request, as a script sends it to POST /api/v1/bookings."""
    body = request_fields(*args, **overrides)
    body.update(start=body["start"].isoformat(), end=body["end"].isoformat())
    return {name: value for name, value in body.items() if value is not None}


def hold(session, **kwargs: Any) -> HeldBooking:
    """Hold dates through the real rules and commit, as a union's request would."""
    held = hold_dates(session, request_for(**kwargs), today_local(), now_utc())
    session.commit()
    return held


def form_data(offering: str = "expo-interieure", **overrides: Any) -> dict[str, str]:
    """The request form as a browser would post it: the offering's own questions, not
    another's (they are not on its page); overrides may name any field, form-only ones too."""
    known = {k: v for k, v in overrides.items() if k in BookingRequest.model_fields}
    body = api_body(offering, **known)
    body.pop("offering")
    if offering in OWN_ANSWERS:
        own = {*OWN_ANSWERS[offering], *(() if offering == TRAINING else ("audience",))}
        others = {name for answers in OWN_ANSWERS.values() for name in answers} | {"audience"}
        for name in others - own - set(overrides):
            body.pop(name, None)
    data = {name: str(value) for name, value in body.items()}
    for name in ("secure_storage", "site_power"):
        if isinstance(body.get(name), bool):
            data[name] = "yes" if body[name] else "no"
    data.update({k: v for k, v in overrides.items() if k not in BookingRequest.model_fields})
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


STAFF_PASSWORD = "solidarité-en-tournée"


@functools.cache
def _staff_password_hash() -> str:
    return hash_password(STAFF_PASSWORD)  # argon2 is slow by design: hashed once per run


def staff_account(
    session: Session, email: str = "marie@centre.example", role: Role = Role.STAFF
) -> StaffUser:
    """A staff account with STAFF_PASSWORD, as `flask --app run staff create` makes one."""
    user = StaffUser(
        email=email, password_hash=_staff_password_hash(), role=role.value, created_at=now_utc()
    )
    session.add(user)
    session.commit()
    return user


def sign_in(
    client: FlaskClient,
    email: str,
    password: str = STAFF_PASSWORD,
    next: str | None = None,
    **request: Any,
):
    """Sign in through the login page, as a person does (`request`: headers, environ_base…)."""
    data = {"email": email, "password": password}
    if next is not None:
        data["next"] = next
    return post_form(client, "/staff/login", data, **request)


def staff_post(client: FlaskClient, url: str, data: dict[str, str] | None = None, **kwargs: Any):
    """A staff form sent with the session's CSRF token (read off a staff page)."""
    token = csrf_token(client, "/staff/log")
    return client.post(url, data={**(data or {}), "csrf_token": token}, **kwargs)


def picture(width: int = 2400, height: int = 1600, colour: str = "teal") -> bytes:
    """A JPEG file as a camera would hand it over (without the camera's metadata)."""
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


A_PORTRAIT = PortraitText(
    caption_fr="Une valoriste au dépôt.",
    caption_es="Una valorista en el depósito.",
    caption_en="A valoriste at the depot.",
    alt_fr="Une femme pousse un chariot",
    alt_en="A woman pushes a cart",
    place="Montréal",
    country="Canada",
    credit="Photographe de test",
    published=True,
    consent_given_on=dt.date(2020, 1, 1),
)


def portrait_with_sizes(
    app: Flask, session: Session, text: PortraitText | None = None, **image: Any
) -> Portrait:
    """A published portrait first in the library (ahead of the demo ones), its sizes made."""
    portrait = add_portrait(
        session,
        app.config["DATA_DIR"],
        clean_upload(picture(**image)),
        "test",
        now_utc(),
        text or A_PORTRAIT,
    )
    portrait.position = 0
    session.commit()
    jobs.work_due_jobs(session, app.config["DATA_DIR"], now_utc())
    session.refresh(portrait)
    return portrait


def screen_form(**overrides: Any) -> dict[str, Any]:
    """The screen form as a browser posts it; None leaves a field out (an unticked box)."""
    data: dict[str, Any] = {
        "name": "Salle des métallos",
        "booking_id": "",
        "language_1": "fr",
        "language_2": "es",
        "language_3": "en",
        "seconds_per_slide": "12",
        "portraits": "all",
        # The starting targets (migration 0006): donate, signup, membership.
        "target_ids": ["1", "2", "3"],
    }
    data.update(overrides)
    return {name: value for name, value in data.items() if value is not None}


def says_on_its_field(page: str, field: str, message: str) -> None:
    """A refused staff form shows the message on the field it is about."""
    shown = re.search(rf'<p class="field-error" id="{field}-error">(.*?)</p>', page, re.S)
    assert shown, f"no message on {field}"
    assert message in shown[1].replace("&#39;", "'")
