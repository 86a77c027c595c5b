"""A union whose dates are taken asks to be told if they free up, and hears once, with a link
to the request form filled in, when staff decline or a union cancels the hold on them."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import re
import threading
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

import pytest
from jsonschema import Draft202012Validator
from sqlalchemy import func, select

from booking import waitlist
from booking.desk_flow import decide_and_tell
from booking.models import Booking, WaitlistEntry
from booking.routes import mail_settings
from booking.status import BookingStatus
from core.clock import now_utc, today_local
from core.database import engine_of, session_for
from core.models import OutboxMessage
from tests.factories import (
    api_body,
    csrf_token,
    days_from_today,
    form_data,
    hold,
    post_form,
    staff_post,
)

D = dt.timedelta
PUBLIC_URL = "https://ambulante.example.org"
OUTDOOR = "expo-exterieure"  # one unit: a single hold takes its dates
EN = {"Accept-Language": "en"}
START = 60  # days from today: past the outdoor set's lead time
WAITING = "ines@example.org"


@pytest.fixture
def app_config():
    return {"PUBLIC_URL": PUBLIC_URL}


def dates(first: int = START, days: int = 10) -> tuple[dt.date, dt.date]:
    start = days_from_today(first)
    return start, start + D(days - 1)


def take(session, offering: str = OUTDOOR, first: int = START, days: int = 10, **fields):
    start, end = dates(first, days)
    return hold(session, offering=offering, start=start, end=end, **fields)


def wait_for(session, email_address: str = WAITING, offering: str = OUTDOOR, first=START, days=10,
             language: str = "fr") -> WaitlistEntry:  # fmt: skip
    """A union joins the waitlist through the service, as the form and the API do."""
    start, end = dates(first, days)
    entry = waitlist.join_waitlist(
        session, offering, start, end, email_address, language, today_local(), now_utc()
    )
    session.commit()
    return entry


def fresh(session) -> None:
    """Read again what the app has committed since (a new transaction, nothing cached)."""
    session.rollback()
    session.expire_all()


def entries(session) -> list[WaitlistEntry]:
    fresh(session)
    return list(session.scalars(select(WaitlistEntry).order_by(WaitlistEntry.id)))


def mail_to(session, address: str) -> list[OutboxMessage]:
    fresh(session)
    return list(session.scalars(select(OutboxMessage).where(OutboxMessage.recipient == address)))


def body_of(message: OutboxMessage) -> str:
    parsed = email.message_from_string(message.raw, policy=email.policy.default)
    return parsed.get_body(("plain",)).get_content()


def link_in(message: OutboxMessage) -> str:
    found = re.search(r"https?://\S+/waitlist/\S+", body_of(message))
    assert found, body_of(message)
    return found[0]


class Offer(HTMLParser):
    """The waitlist offer as the browser sends it: the inputs that belong to #waitlist-form."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.values: dict[str, str] = {}
        self.action = ""
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = {key: value or "" for key, value in attrs}
        if tag == "form" and attr.get("id") == "waitlist-form":
            self.action = attr["action"]
        if tag == "input" and attr.get("form") == "waitlist-form":
            self.values[attr["name"]] = attr.get("value", "")


def join(client, values: dict[str, str], slug: str = OUTDOOR, **kwargs):
    """Send the waitlist form with the token the request page carries."""
    token = csrf_token(client, f"/book/{OUTDOOR}")
    return client.post(f"/book/{slug}/waitlist", data={**values, "csrf_token": token}, **kwargs)


def decline(staff_client, held) -> None:
    reference = held.booking.reference
    response = staff_post(
        staff_client, f"/staff/bookings/{reference}/decision", {"decision": "declined"}
    )
    assert response.status_code == 303


# --- joining ------------------------------------------------------------------------------


def test_union_whose_dates_are_taken_joins_the_waitlist_from_the_409_page(client, session):
    take(session)
    start, end = dates()
    sent = form_data(OUTDOOR, start=start, end=end, email=WAITING, language="en")
    refused = post_form(client, f"/book/{OUTDOOR}", sent, headers=EN)
    assert refused.status_code == 409
    page = refused.get_data(as_text=True)
    assert "Tell me if these dates free up" in page
    offer = Offer(page)
    assert offer.action == f"/book/{OUTDOOR}/waitlist"
    # What the union typed is already there: nothing to type again.
    assert offer.values == {
        "start": start.isoformat(),
        "end": end.isoformat(),
        "language": "en",
        "email": WAITING,
    }

    joined = join(client, offer.values, headers=EN)

    assert joined.status_code == 200
    assert f"We will write to {WAITING} once, if these dates free up" in joined.get_data(
        as_text=True
    )
    [entry] = entries(session)
    assert (entry.email, entry.start_date, entry.end_date, entry.language) == (
        WAITING,
        start,
        end,
        "en",
    )
    assert entry.notified_at is None
    assert entry.offering.slug == OUTDOOR


def test_live_check_offers_the_waitlist_only_for_dates_that_are_taken(client, session):
    take(session)
    start, end = dates()
    check = f"/book/{OUTDOOR}/check"
    taken = client.get(f"{check}?start={start}&end={end}", headers=EN).get_data(as_text=True)
    assert "Tell me if these dates free up" in taken
    assert Offer(taken).values == {
        "start": start.isoformat(),
        "end": end.isoformat(),
        "language": "en",
        "email": "",
    }
    free_start, free_end = dates(START + 100)
    free = client.get(f"{check}?start={free_start}&end={free_end}", headers=EN)
    assert "These dates are free." in free.get_data(as_text=True)
    assert "waitlist" not in free.get_data(as_text=True)
    # Dates against a rule can be fixed, not waited for.
    past = client.get(f"{check}?start={days_from_today(-5)}&end={days_from_today(5)}", headers=EN)
    assert "waitlist" not in past.get_data(as_text=True)
    # The form the offer's inputs belong to is on the request page, outside the request form.
    page = client.get(f"/book/{OUTDOOR}").get_data(as_text=True)
    assert Offer(page).action == f"/book/{OUTDOOR}/waitlist"
    assert page.index('id="waitlist-form"') > page.index("</form>")


def test_joining_from_the_live_check_answers_in_place(client, session):
    take(session)
    start, end = dates()
    values = {"start": str(start), "end": str(end), "language": "en", "email": WAITING}
    answer = join(
        client,
        values,
        headers={**EN, "HX-Request": "true", "HX-Target": "waitlist-offer"},
    )
    assert answer.status_code == 200
    html = answer.get_data(as_text=True)
    assert "<html" not in html
    assert 'id="waitlist-offer"' in html and "We will write to" in html
    assert len(entries(session)) == 1


def test_a_script_whose_dates_are_taken_is_offered_the_waitlist_and_joins_it(client, session):
    take(session)
    start, end = dates()
    refused = client.post("/api/v1/bookings", json=api_body(OUTDOOR, start, end))
    assert refused.status_code == 409
    offer = refused.get_json()["waitlist"]
    # On the configured address, never on the Host the request named.
    assert offer["url"] == f"{PUBLIC_URL}/api/v1/waitlist"
    assert (offer["offering"], offer["start"], offer["end"]) == (OUTDOOR, str(start), str(end))

    joined = client.post(
        offer["url"].removeprefix(PUBLIC_URL),
        json={**{k: offer[k] for k in ("offering", "start", "end")}, "email": WAITING,
              "language": "en"},
    )  # fmt: skip

    assert joined.status_code == 201
    assert joined.get_json() == {
        "status": "waiting",
        "offering": OUTDOOR,
        "start": str(start),
        "end": str(end),
        "email": WAITING,
        "language": "en",
    }
    spec = client.get("/api/v1/openapi.json").get_json()
    for name, payload in (("DatesTaken", refused.get_json()), ("WaitlistJoined", joined.json)):
        schema = {"$ref": f"#/components/schemas/{name}", "components": spec["components"]}
        assert not list(Draft202012Validator(schema).iter_errors(payload))
    assert [entry.email for entry in entries(session)] == [WAITING]


def test_joining_twice_keeps_one_entry(client, session):
    take(session)
    start, end = dates()
    values = {"start": str(start), "end": str(end), "language": "fr", "email": WAITING}
    for _ in range(2):
        assert join(client, values).status_code == 200
    body = {"offering": OUTDOOR, "start": str(start), "end": str(end), "language": "en"}
    assert (
        client.post("/api/v1/waitlist", json={**body, "email": WAITING.upper()}).status_code == 201
    )
    [entry] = entries(session)
    assert entry.language == "en"  # the last choice
    # Other dates are another wish.
    other = client.post("/api/v1/waitlist", json={**body, "email": WAITING, "end": str(end + D(1))})
    assert other.status_code == 201, other.json
    assert len(entries(session)) == 2


# --- bad input ----------------------------------------------------------------------------

GOOD = {"offering": OUTDOOR, "email": WAITING, "language": "en"}


def good_dates() -> dict[str, str]:
    start, end = dates()
    return {"start": str(start), "end": str(end)}


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"email": "ines at example"}, "email", "Enter a valid email address"),
        ({"email": ""}, "email", "This field is required."),
        ({"start": "past", "end": "soon"}, "start", "This date is in the past."),
        ({"end": "before"}, "end", "The last day must be on or after the first day."),
        ({"start": "far"}, "start", "We take requests up to 3 years ahead."),
        ({"offering": "expo-lunaire"}, "offering", "Unknown offering."),
        ({"language": "de"}, "language", "Choose French (fr) or English (en)."),
        ({"start": "2027-02-30"}, "start", "Enter a date as YYYY-MM-DD."),
        ({"email": 42}, "email", "Must be text."),
    ],
)
def test_a_script_with_bad_input_is_told_what_and_nothing_is_stored(
    client, session, change, field, message
):
    body = {**GOOD, **good_dates()}
    words = {
        "past": str(days_from_today(-3)),
        "soon": str(days_from_today(3)),
        "before": str(days_from_today(START - 1)),
        "far": str(days_from_today(3 * 366 + 1)),
    }
    body.update({key: words.get(value, value) for key, value in change.items()})
    response = client.post("/api/v1/waitlist", json=body, headers=EN)
    assert response.status_code == 422
    assert message in response.get_json()["errors"][field]
    assert entries(session) == []


@pytest.mark.parametrize(
    ("data", "status"),
    [
        ('{"offering": "expo-exterieure", ', 400),
        ("[1, 2]", 422),
    ],
)
def test_a_script_sending_malformed_json_is_told_and_nothing_is_stored(
    client, session, data, status
):
    response = client.post("/api/v1/waitlist", data=data, content_type="application/json")
    assert response.status_code == status
    assert entries(session) == []
    assert client.post("/api/v1/waitlist", data="email=x").status_code == 415


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"email": "ines@"}, "Enter a valid email address"),
        ({"email": ""}, "This field is required."),
        ({"start": "2020-01-01", "end": "2020-01-09"}, "This date is in the past."),
        ({"end": "before"}, "The last day must be on or after the first day."),
        ({"start": "not a date"}, "Enter a date as YYYY-MM-DD."),
    ],
)
def test_a_union_with_bad_input_on_the_form_is_told_and_nothing_is_stored(
    client, session, change, message
):
    values = {**good_dates(), "email": WAITING, "language": "en"}
    values.update(change)
    if values["end"] == "before":
        values["end"] = str(days_from_today(START - 1))
    response = join(client, values, headers=EN)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in page
    assert "you are not on the waitlist yet" in page
    # Sent again from the page, with the email put right, it goes through.
    if "email" in change:
        again = {**Offer(page).values, "email": WAITING}
        assert join(client, again).status_code == 200
        assert len(entries(session)) == 1
    else:
        assert entries(session) == []


def test_the_waitlist_form_needs_its_token_and_a_real_offering(client, session):
    values = {**good_dates(), "email": WAITING, "language": "en"}
    assert client.post(f"/book/{OUTDOOR}/waitlist", data=values).status_code == 400
    assert join(client, values, "expo-lunaire").status_code == 404
    assert entries(session) == []


# --- telling the waiting unions -----------------------------------------------------------


def test_staff_decline_tells_each_union_waiting_on_overlapping_dates_once(staff_client, session):
    held = take(session)
    wait_for(session, "same@example.org")
    wait_for(session, "overlap@example.org", first=START + 7)  # shares three days
    # Within the freed transit days: those dates were blocked by the hold too.
    wait_for(session, "transit@example.org", first=START + 12)
    wait_for(session, "later@example.org", first=START + 40)
    wait_for(session, "indoor@example.org", offering="expo-interieure")

    decline(staff_client, held)

    for told in ("same@example.org", "overlap@example.org", "transit@example.org"):
        assert len(mail_to(session, told)) == 1, told
    for untold in ("later@example.org", "indoor@example.org"):
        assert mail_to(session, untold) == [], untold
    waiting = {entry.email: entry.notified_at for entry in entries(session)}
    assert waiting["later@example.org"] is None and waiting["same@example.org"] is not None


def test_union_cancelling_through_its_private_link_tells_the_waiting_union(client, session):
    held = take(session)
    wait_for(session)
    cancel = f"/bookings/{held.manage_token}/cancel"
    assert post_form(client, cancel, {}).status_code == 303
    fresh(session)
    assert session.get(Booking, held.booking.id).status == BookingStatus.CANCELLED
    assert len(mail_to(session, WAITING)) == 1


def test_a_waiting_union_is_told_once_whatever_is_cancelled_later(client, staff_client, session):
    first = take(session)
    wait_for(session)
    decline(staff_client, first)
    assert len(mail_to(session, WAITING)) == 1
    # Another union takes the dates, then cancels: the union told already hears nothing more.
    second = take(session, email="autre@example.org")
    assert post_form(client, f"/bookings/{second.manage_token}/cancel", {}).status_code == 303
    assert len(mail_to(session, WAITING)) == 1


def test_one_of_two_trainer_teams_freed_is_announced(staff_client, session):
    training = "formation-bd-textile"
    first = take(session, offering=training, days=1)
    take(session, offering=training, days=1, email="b@example.org")
    wait_for(session, offering=training, days=1)
    decline(staff_client, first)
    assert len(mail_to(session, WAITING)) == 1


def test_a_taken_calendar_keeps_the_union_waiting(staff_client, session):
    """The freed booking was on one unit, but the wish needs days another hold keeps."""
    held = take(session, days=7)
    take(session, first=START + 7 + 6, days=7, email="b@example.org")  # after the transit days
    wait_for(session, first=START + 3, days=12)  # reaches into the second hold
    decline(staff_client, held)
    assert mail_to(session, WAITING) == []
    assert entries(session)[0].notified_at is None


def test_an_english_union_is_told_in_english_and_a_french_one_in_french(staff_client, session):
    held = take(session)
    wait_for(session, "en@example.org", language="en")
    wait_for(session, "fr@example.org", language="fr")
    decline(staff_client, held)
    [english] = mail_to(session, "en@example.org")
    assert english.subject == "The dates you were waiting for are free again"
    assert "pepenadores and valoristes — outdoor set" in body_of(english)
    assert "These dates are free again." in body_of(english)
    assert "This is the only message you will get about these dates." in body_of(english)
    [french] = mail_to(session, "fr@example.org")
    assert "version extérieure" in body_of(french)


def test_the_link_opens_the_filled_in_form_while_free_and_expires_once_taken(
    app, client, staff_client, session
):
    held = take(session)
    wait_for(session, language="en")
    decline(staff_client, held)
    [message] = mail_to(session, WAITING)
    link = link_in(message)
    assert link.startswith(f"{PUBLIC_URL}/waitlist/")  # the configured address
    path = link.removeprefix(PUBLIC_URL)

    opened = client.get(path)

    assert opened.status_code == 303
    target = urlsplit(opened.location)
    start, end = dates()
    assert target.path == f"/book/{OUTDOOR}"
    assert parse_qs(target.query) == {
        "start": [str(start)],
        "end": [str(end)],
        "email": [WAITING],
        "language": ["en"],
    }
    form = client.get(opened.location, headers=EN).get_data(as_text=True)
    assert f'value="{WAITING}"' in form and f'value="{start}"' in form
    assert "These dates are free." in form
    assert opened.headers["Cache-Control"] == "no-store"

    take(session, email="quicker@example.org")  # another union is quicker
    expired = client.get(path, headers=EN)

    assert expired.status_code == 410
    page = expired.get_data(as_text=True)
    assert "This link has expired" in page
    assert f'href="/offerings/{OUTDOOR}"' in page
    assert WAITING not in page and str(start) not in page
    assert client.get("/waitlist/not-a-link").status_code == 404


def test_opening_or_heading_a_link_changes_nothing(client, staff_client, session):
    held = take(session)
    wait_for(session)
    decline(staff_client, held)
    path = link_in(mail_to(session, WAITING)[0]).removeprefix(PUBLIC_URL)
    before = [(e.notified_at, e.token_hash) for e in entries(session)]
    bookings = session.scalar(select(func.count()).select_from(Booking))
    for _ in range(2):
        assert client.get(path).status_code == 303
        assert client.head(path).status_code == 303
    assert [(e.notified_at, e.token_hash) for e in entries(session)] == before
    assert session.scalar(select(func.count()).select_from(Booking)) == bookings


def test_a_mail_failure_never_undoes_the_cancellation(app, client, session, monkeypatch):
    held = take(session)
    wait_for(session)

    def broken(*_args, **_kwargs):
        raise RuntimeError("the template is broken")

    monkeypatch.setattr(waitlist, "dates_freed", broken)
    response = post_form(client, f"/bookings/{held.manage_token}/cancel", {})
    assert response.status_code == 303
    fresh(session)
    assert session.get(Booking, held.booking.id).status == BookingStatus.CANCELLED


@pytest.fixture(params=["sqlite", "postgresql"])
def any_database_app(request, fresh_app):
    if request.param == "sqlite":
        return request.getfixturevalue("app")
    return fresh_app(DATABASE_URL=request.getfixturevalue("postgres_url"), PUBLIC_URL=PUBLIC_URL)


def test_two_cancellations_at_once_tell_a_waiting_union_once(any_database_app, monkeypatch):
    """Both crates' holds on the same dates end at the same moment: both threads read the
    union as waiting before either claims it (on PostgreSQL; SQLite runs them in turn)."""
    app = any_database_app
    with app.app_context(), session_for(app) as session:
        both = [
            take(session, offering="expo-interieure", email=f"u{i}@example.org") for i in (1, 2)
        ]
        wait_for(session, offering="expo-interieure")
    postgres = engine_of(app).dialect.name == "postgresql"
    meeting = threading.Barrier(2, timeout=10)
    real = waitlist.free_unit_id

    def meet_then_look(*args, **kwargs):
        if postgres:
            meeting.wait()  # both have read the entry as waiting
        return real(*args, **kwargs)

    monkeypatch.setattr(waitlist, "free_unit_id", meet_then_look)
    failures: list[BaseException] = []

    def cancel(held) -> None:
        try:
            with app.test_request_context(), session_for(app) as own:
                decide_and_tell(
                    own,
                    mail_settings(),
                    held.booking.reference,
                    BookingStatus.CANCELLED,
                    "",
                    "marie@centre.example",
                    now_utc(),
                )
        except BaseException as error:  # noqa: BLE001 - reported by the test below
            failures.append(error)

    threads = [threading.Thread(target=cancel, args=(held,)) for held in both]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not failures
    with session_for(app) as session:
        assert len(mail_to(session, WAITING)) == 1
