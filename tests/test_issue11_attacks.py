"""Issue 11 attacked from outside: a first day at the very end of the calendar on an offering of
one fixed length, phone extensions typed in other scripts' digits, and a burst of requests
sent together against the request form's rate limit."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from sqlalchemy import select, update

from booking.models import Booking, Offering
from core.database import session_for
from tests.factories import (
    TRAINING,
    api_body,
    csrf_token,
    days_from_today,
    form_data,
    training_day,
)

D = dt.timedelta
EN = {"Accept-Language": "en"}
INDOOR = "expo-interieure"
END_OF_THE_CALENDAR = ("9999-12-30", "9999-12-31")
TOO_FAR = "We take requests up to 3 years ahead."


@pytest.fixture(params=["sqlite", "postgresql"])
def site(request: pytest.FixtureRequest, fresh_app: Any) -> Flask:
    """The site as it runs, on SQLite or on the test PostgreSQL."""
    config: dict[str, Any] = {}
    if request.param == "postgresql":
        config["DATABASE_URL"] = request.getfixturevalue("postgres_url")
    return fresh_app(**config)


def _training_of_three_days(app: Flask) -> None:
    """Staff make the training a three-day course (one length: no last day is asked)."""
    with session_for(app) as session:
        session.execute(
            update(Offering).where(Offering.slug == TRAINING).values(min_days=3, max_days=3)
        )
        session.commit()


# --- a first day at the end of the calendar ----------------------------------------------------


@pytest.mark.parametrize("start", END_OF_THE_CALENDAR)
def test_union_typing_a_date_in_year_9999_for_a_three_day_training_is_told_it_is_too_far(
    site, start
):
    _training_of_three_days(site)
    client = site.test_client()
    form = f"/book/{TRAINING}"

    assert client.get(form, query_string={"start": start}, headers=EN).status_code == 200
    check = client.get(f"{form}/check", query_string={"start": start}, headers=EN)
    assert check.status_code == 200 and TOO_FAR in check.get_data(as_text=True)

    token = csrf_token(client, form)
    typed = {**form_data(TRAINING), "start": start, "csrf_token": token}
    sent = client.post(form, data=typed, headers=EN)
    assert sent.status_code == 422 and TOO_FAR in sent.get_data(as_text=True)
    assert client.post(f"{form}/form", data=typed, headers=EN).status_code == 200

    body = {**api_body(TRAINING), "start": start}
    answer = client.post("/api/v1/bookings", json=body, headers=EN)
    assert answer.status_code == 422
    assert answer.get_json()["errors"]["start"] == TOO_FAR
    with session_for(site) as session:
        assert session.scalars(select(Booking)).all() == []


# --- phone extensions in other digits ----------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    [
        "514 555-0199 poste ٢٢٤",  # Arabic-Indic digits
        "+1 514 555 0199 ext. ２２４",  # full-width digits, as a Japanese keyboard types them
    ],
)
def test_an_extension_typed_in_other_digits_is_kept_and_shown_in_plain_digits(
    client, session, typed
):
    body = api_body(TRAINING, start=training_day(75), phone=typed)
    answer = client.post("/api/v1/bookings", json=body)

    assert answer.status_code == 201
    stored = session.scalar(
        select(Booking.phone).where(Booking.reference == answer.json["reference"])
    )
    assert stored == "+15145550199;ext=224"
    page = client.get(urlsplit(answer.json["manage_url"]).path, headers=EN)
    assert "514-555-0199, ext. 224" in page.get_data(as_text=True)


# --- the request form's rate limit under a burst ---------------------------------------------


class TestBurst:
    @pytest.fixture
    def app_config(self) -> dict[str, Any]:
        return {"RATELIMIT_BOOKING": "2/hour"}

    def test_a_script_sending_requests_together_holds_no_more_than_the_limit(self, app, session):
        senders = [app.test_client() for _ in range(8)]
        tokens = [csrf_token(sender, f"/book/{INDOOR}") for sender in senders]
        together = threading.Barrier(len(senders))
        answers: list[int] = [0] * len(senders)

        def send(number: int) -> None:
            start = days_from_today(200 + 10 * number)
            data = {
                **form_data(INDOOR, start=start, end=start + D(4)),
                "csrf_token": tokens[number],
            }
            together.wait()
            answers[number] = senders[number].post(f"/book/{INDOOR}", data=data).status_code

        threads = [threading.Thread(target=send, args=(number,)) for number in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        assert sorted(answers) == [303, 303] + [429] * 6
        assert len(session.scalars(select(Booking)).all()) == 2

    def test_a_typo_still_costs_nothing(self, client):
        form = f"/book/{INDOOR}"
        token = csrf_token(client, form)
        for _typo in range(3):
            typo = {**form_data(INDOOR, email="ana@"), "csrf_token": token}
            assert client.post(form, data=typo).status_code == 422
        for offset in (60, 70):
            start = days_from_today(offset)
            sent = {**form_data(INDOOR, start=start, end=start + D(4)), "csrf_token": token}
            assert client.post(form, data=sent).status_code == 303
