"""A union cancels through its private link and hears it in its language; a union that lost its
links gets them again by email; the staff notice answers to the union and links to the desk."""

from __future__ import annotations

import datetime as dt
import email
import re
import threading
from email import policy
from email.message import EmailMessage

import pytest
from flask import url_for
from icalendar import Calendar
from sqlalchemy import event, func, select

from booking import lost_link, notify
from booking.decisions import decide
from booking.models import Booking
from booking.status import BookingStatus
from core.clock import now_utc, today_local
from core.database import engine_of, session_for
from core.i18n import format_day
from core.models import OutboxMessage
from core.outbox import MailSettings, UnsafeMessage, compose
from tests.factories import api_body, csrf_token, days_from_today, hold, post_form

D = dt.timedelta
PUBLIC_URL = "https://ambulante.example.org"
EN = {"Accept-Language": "en"}
FR = {"Accept-Language": "fr"}
UNION = "ana@example.org"  # the address of tests.factories.A_UNION
LOST_LINK = "/bookings/lost-link"


@pytest.fixture
def app_config():
    return {"PUBLIC_URL": PUBLIC_URL}


@pytest.fixture(autouse=True)
def _every_asking_handled():
    """No asking of one test is left for the next one's app."""
    yield
    assert lost_link.sender.wait_until_idle()


# --- reading the outbox as a mail program would --------------------------------------------


def mail_to(session, recipient: str) -> list[EmailMessage]:
    session.rollback()
    session.expire_all()
    rows = session.scalars(
        select(OutboxMessage.raw)
        .where(func.lower(OutboxMessage.recipient) == recipient.lower())
        .order_by(OutboxMessage.id)
    )
    return [email.message_from_string(raw, policy=policy.default) for raw in rows]


def outbox_size(session) -> int:
    session.rollback()
    return session.scalar(select(func.count()).select_from(OutboxMessage))


def text_of(message: EmailMessage) -> str:
    return message.get_body(("plain",)).get_content()


def links_in(message: EmailMessage) -> list[str]:
    return re.findall(rf"{re.escape(PUBLIC_URL)}/\S+", text_of(message))


def calendar_part(message: EmailMessage) -> EmailMessage:
    [part] = [p for p in message.iter_attachments() if p.get_content_type() == "text/calendar"]
    return part


def private_path(token: str) -> str:
    return f"/bookings/{token}"


def cancel(client, token: str, headers=EN):
    response = post_form(client, f"{private_path(token)}/cancel", {}, headers=headers)
    assert response.status_code == 303
    return response


def ask_for_links(client, address: str, headers=EN):
    response = post_form(client, LOST_LINK, {"email": address}, headers=headers)
    assert lost_link.sender.wait_until_idle()
    return response


# --- cancelling ------------------------------------------------------------------------------

CANCEL_MAIL = {
    "en": ("Your request {reference} is cancelled", "other unions can book them now"),
    "fr": ("Votre demande {reference} est annulée", "d'autres syndicats peuvent les réserver"),
}


@pytest.mark.parametrize("language", ["fr", "en"])
def test_union_cancelling_is_told_by_email_in_its_language(client, session, language):
    held = hold(session, language=language)
    reference = held.booking.reference
    cancel(client, held.manage_token)

    [message] = mail_to(session, UNION)  # held by the rules directly: no message before
    subject, freed = CANCEL_MAIL[language]
    assert message["Subject"] == subject.format(reference=reference)
    text = text_of(message)
    assert freed in text
    start = format_day(held.booking.start_date, "long", language=language)
    assert start in text  # the dates in words, never 2027-03-04
    assert held.booking.start_date.isoformat() not in text
    # Book again: the offering's request form, on the configured address.
    assert f"{PUBLIC_URL}/book/expo-interieure" in links_in(message)
    # The calendar file marks the event cancelled, in place of the one sent with the request.
    [event] = Calendar.from_ical(calendar_part(message).get_content()).walk("VEVENT")
    assert str(event["status"]) == "CANCELLED"
    assert int(event["sequence"]) == 1
    # The staff still hear of it, in French.
    [staff] = [m for m in mail_to(session, "ciso@ciso.qc.ca") if "annulée" in m["Subject"]]
    assert f"{PUBLIC_URL}/staff/bookings/{reference}" in links_in(staff)


def test_union_sees_a_cancelled_page_that_says_what_happened(client, session, today):
    held = hold(session)
    cancel(client, held.manage_token)
    page = client.get(private_path(held.manage_token), headers=EN).get_data(as_text=True)
    assert f"This request was cancelled on {format_day(today, 'long', language='en')}." in page
    assert "Its dates are free again" in page
    assert f"We emailed a confirmation to {UNION}." in page
    for offer in ("anyone who has it can cancel", "Add to my calendar", "Cancel this request"):
        assert offer not in page, offer
    book_again = re.search(r'<a class="button" href="([^"]+)">Book again</a>', page)
    assert book_again and book_again[1].startswith("/book/expo-interieure?")
    assert "organization=Syndicat+des+cols+bleus" in book_again[1]
    assert "email=ana@example.org" in book_again[1]
    assert "phone=514-383-2266" in book_again[1]  # as people write it, not as stored


def test_the_cancelled_page_in_french_reads_as_french(client, session, today):
    held = hold(session)
    cancel(client, held.manage_token, headers=FR)
    page = client.get(private_path(held.manage_token), headers=FR).get_data(as_text=True)
    assert "Statut\u00a0:" in page
    assert f"annulée le {format_day(today, 'long', language='fr')}" in page
    assert "Réserver de nouveau" in page


def test_book_again_fills_in_who_the_union_is_and_is_never_cached(client, session):
    held = hold(session)
    cancel(client, held.manage_token)
    page = client.get(private_path(held.manage_token), headers=EN).get_data(as_text=True)
    link = re.search(r'<a class="button" href="([^"]+)">Book again</a>', page)[1]
    form = client.get(link.replace("&amp;", "&"), headers=EN)
    assert form.status_code == 200
    assert form.headers["Cache-Control"] == "no-store"
    assert 'value="Syndicat des cols bleus"' in form.get_data(as_text=True)
    # The same form without anyone's details may be cached as before.
    assert "no-store" not in client.get("/book/expo-interieure").headers.get("Cache-Control", "")


def test_a_declined_request_says_so_and_offers_to_book_again(client, session, today):
    held = hold(session)
    decide(session, held.booking.reference, BookingStatus.DECLINED, "", "marie@ciso", now_utc())
    session.commit()
    page = client.get(private_path(held.manage_token), headers=EN).get_data(as_text=True)
    assert f"declined this request on {format_day(today, 'long', language='en')}" in page
    assert "Book again" in page
    assert "Cancel this request" not in page and "Add to my calendar" not in page


def test_a_held_request_keeps_its_calendar_and_cancel_offers(client, session):
    held = hold(session)
    page = client.get(private_path(held.manage_token), headers=EN).get_data(as_text=True)
    assert "Cancel this request" in page and "Add to my calendar" in page
    assert "anyone who has it can cancel" in page
    assert "Book again" not in page


# --- the messages' headers and parts ---------------------------------------------------------


def test_calendar_files_in_mail_say_they_are_utf8(client, session):
    response = client.post("/api/v1/bookings", json=api_body(venue="Salle Émile-Côté"))
    token = response.get_json()["manage_url"].rsplit("/", 1)[1]
    cancel(client, token)
    acknowledgement, cancellation = mail_to(session, UNION)
    for message in (acknowledgement, cancellation):
        part = calendar_part(message)
        assert part.get_content_charset() == "utf-8"
        assert "Salle Émile-Côté" in part.get_content().replace("\r\n ", "")


def requested_via_api(client, session, **fields) -> tuple[Booking, EmailMessage]:
    response = client.post("/api/v1/bookings", json=api_body(**fields))
    assert response.status_code == 201, response.get_json()
    reference = response.get_json()["reference"]
    [notice] = [m for m in mail_to(session, "ciso@ciso.qc.ca") if reference in m["Subject"]]
    session.expire_all()
    booking = session.scalar(select(Booking).where(Booking.reference == reference))
    return booking, notice


def test_staff_notice_answers_to_the_union_and_links_to_the_desk(client, staff_client, session):
    booking, notice = requested_via_api(client, session, email="Ana.Perez@Example.ORG")
    assert notice["Reply-To"] == "Ana.Perez@example.org"  # the address as validated
    desk = f"{PUBLIC_URL}/staff/bookings/{booking.reference}"
    assert desk in links_in(notice)
    page = staff_client.get(desk.removeprefix(PUBLIC_URL))
    assert page.status_code == 200
    assert booking.reference in page.get_data(as_text=True)


@pytest.mark.parametrize(
    "contact_name",
    [
        "Ana =?utf-8?q?P=0D=0ABcc:_evil@evil.example?=",
        "=?utf-8?b?QW5hDQpSZXBseS1UbzogZXZpbEBldmlsLmV4YW1wbGU=?=",
        "Ana <evil@evil.example>",
        "evil@evil.example, Ana",
    ],
)
def test_a_typed_name_never_reaches_the_reply_to(client, session, contact_name):
    booking, notice = requested_via_api(client, session, contact_name=contact_name)
    headers = sorted(name.lower() for name in notice.keys())
    written = ["from", "to", "reply-to", "subject", "message-id", "mime-version", "content-type"]
    assert headers == sorted([*written, "content-transfer-encoding"])  # one text part
    assert notice["Reply-To"] == UNION
    assert notice["To"] == "ciso@ciso.qc.ca"
    assert "evil" not in str(notice["Reply-To"]) + str(notice["To"]) + str(notice["Subject"])
    assert contact_name in text_of(notice)  # the union's words stay in the body


@pytest.mark.parametrize(
    "contact_name, address",
    [
        ("Ana\r\nBcc: evil@evil.example", UNION),
        ("Ana\nReply-To: evil@evil.example", UNION),
        ("Ana", "ana@example.org\r\nBcc: evil@evil.example"),
        ("Ana", "=?utf-8?q?ana=0D=0ABcc:_evil@evil.example?=@example.org"),
    ],
)
def test_line_breaks_and_encoded_words_in_who_the_union_is_are_refused(
    client, session, contact_name, address
):
    response = client.post(
        "/api/v1/bookings", json=api_body(contact_name=contact_name, email=address)
    )
    assert response.status_code == 422
    assert outbox_size(session) == 0


@pytest.mark.parametrize(
    "reply_to",
    [
        "ana@example.org\r\nBcc: evil@evil.example",
        "ana@example.org\nBcc: evil@evil.example",
        "=?utf-8?q?ana@example.org=0D=0ABcc:_evil@evil.example?=",
        "Ana Pérez <ana@example.org>",
        "ana@example.org, evil@evil.example",
        "Ana Pérez",
    ],
)
def test_a_reply_to_is_an_address_alone_or_nothing(reply_to):
    with pytest.raises(UnsafeMessage):
        compose(sender="a@example.org", recipient="b@example.org", subject="x", body="x",
                reply_to=reply_to)  # fmt: skip


def test_the_links_in_messages_lead_to_the_pages_they_name(app):
    with app.test_request_context():
        assert url_for("booking.manage", token="T") == notify.MANAGE_PATH.format(token="T")
        assert url_for("booking.lost_link") == notify.LOST_LINK_PATH
        assert url_for("booking.book", slug="s") == notify.BOOK_PATH.format(slug="s")
        assert url_for("desk.booking_page", reference="R") == notify.STAFF_BOOKING_PATH.format(
            reference="R"
        )


def test_the_request_acknowledgement_says_where_to_get_a_lost_link(client, session):
    client.post("/api/v1/bookings", json=api_body())
    [acknowledgement] = mail_to(session, UNION)
    assert f"{PUBLIC_URL}{LOST_LINK}" in links_in(acknowledgement)
    assert client.get(LOST_LINK, headers=EN).status_code == 200


# --- "Lost your link?" ---------------------------------------------------------------------


def over(session, booking: Booking) -> None:
    """The booking's dates are behind us (as if it had been held long ago)."""
    ended = days_from_today(-3)
    booking.blocked_start = booking.start_date = ended - D(4)
    booking.blocked_end = booking.end_date = ended
    session.commit()


def test_union_gets_the_links_of_its_active_bookings_only(client, session):
    requested = hold(session, start=days_from_today(60))
    confirmed = hold(session, start=days_from_today(120), email="ANA@example.org")
    decide(session, confirmed.booking.reference, BookingStatus.CONFIRMED, "", "m@ciso", now_utc())
    cancelled = hold(session, start=days_from_today(200))
    cancel(client, cancelled.manage_token)
    ended = hold(session, start=days_from_today(260))
    over(session, ended.booking)
    someone_else = hold(session, start=days_from_today(300), email="autre@example.org")
    before = outbox_size(session)

    response = ask_for_links(client, "Ana@EXAMPLE.org")

    assert response.status_code == 303
    assert outbox_size(session) == before + 1  # one message, whatever the number of bookings
    message = mail_to(session, UNION)[-1]
    assert message["Subject"] == "Vos liens privés vers vos demandes"  # the newest's language
    text = text_of(message)
    for listed in (requested, confirmed):
        assert listed.booking.reference in text
    for unlisted in (cancelled, ended, someone_else):
        assert unlisted.booking.reference not in text
    links = links_in(message)
    assert len(links) == 2
    for link in links:
        page = client.get(link.removeprefix(PUBLIC_URL), headers=EN)
        assert page.status_code == 200
    # The links sent before stop working, and say how to get new ones.
    old = client.get(private_path(requested.manage_token), headers=EN)
    assert old.status_code == 404
    assert "Lost your link?" in old.get_data(as_text=True)
    # A booking not listed keeps its link.
    assert client.get(private_path(someone_else.manage_token)).status_code == 200
    assert client.get(private_path(cancelled.manage_token)).status_code == 200


def test_the_links_are_sent_in_the_newest_bookings_language(client, session):
    hold(session, start=days_from_today(60), language="fr")
    hold(session, start=days_from_today(120), language="en")
    ask_for_links(client, UNION, headers=FR)
    message = mail_to(session, UNION)[-1]
    assert message["Subject"] == "Your private links to your requests"
    assert format_day(days_from_today(60), "long", language="en") in text_of(message)


def test_an_unknown_address_is_answered_the_same_and_sent_nothing(client, session):
    hold(session)
    before = outbox_size(session)
    answers = []
    for address in (UNION, "personne@example.org"):
        response = ask_for_links(client, address)
        page = client.get(response.headers["Location"], headers=EN).get_data(as_text=True)
        answers.append(
            (response.status_code, response.headers["Location"], page.replace(address, "@"))
        )
    assert answers[0] == answers[1]
    assert outbox_size(session) == before + 1  # the union's links; nothing to the stranger
    assert mail_to(session, "personne@example.org") == []


def test_the_answer_comes_before_the_bookings_are_even_looked_up(app, client, session, monkeypatch):
    """Same work, same time, whatever the address: the request reads no booking, writes
    nothing, sends nothing; the links are found and sent after the answer."""
    hold(session)
    statements: list[str] = []
    answering = threading.get_ident()

    def seen(_conn, _cursor, statement, *_args) -> None:
        if threading.get_ident() == answering:
            statements.append(statement)

    release = threading.Event()
    real = lost_link.send_links

    def after_release(*args):
        release.wait(10)
        return real(*args)

    monkeypatch.setattr(lost_link, "send_links", after_release)
    token = csrf_token(client, LOST_LINK)
    engine = engine_of(app)
    event.listen(engine, "before_cursor_execute", seen)
    try:
        for address in (UNION, "personne@example.org"):
            response = client.post(LOST_LINK, data={"email": address, "csrf_token": token})
            assert response.status_code == 303
        assert statements == []
        assert outbox_size(session) == 0  # answered, and nothing sent yet
    finally:
        event.remove(engine, "before_cursor_execute", seen)
        release.set()
        assert lost_link.sender.wait_until_idle()
    assert len(mail_to(session, UNION)) == 1


def test_asking_again_at_once_sends_nothing_more_and_breaks_nothing(client, session):
    held = hold(session)
    ask_for_links(client, UNION)
    [link] = links_in(mail_to(session, UNION)[-1])
    ask_for_links(client, UNION)
    ask_for_links(client, UNION.upper())
    assert len(mail_to(session, UNION)) == 1
    assert client.get(link.removeprefix(PUBLIC_URL)).status_code == 200
    assert client.get(private_path(held.manage_token)).status_code == 404


@pytest.fixture(params=["sqlite", "postgresql"])
def any_database_app(request, fresh_app):
    if request.param == "sqlite":
        return request.getfixturevalue("app")
    return fresh_app(DATABASE_URL=request.getfixturevalue("postgres_url"), PUBLIC_URL=PUBLIC_URL)


def test_two_askings_at_the_same_moment_send_one_message(any_database_app):
    """Two server processes take the same asking at once: the second waits for the first
    (the bookings' rows on PostgreSQL, the write lock on SQLite) and then finds it done."""
    app = any_database_app
    with app.app_context(), session_for(app) as session:
        hold(session, start=days_from_today(60))
        hold(session, start=days_from_today(120))
    mail = MailSettings.from_config(app.config)
    meeting = threading.Barrier(2, timeout=10)
    sent: list[int] = []

    def ask() -> None:
        with app.app_context(), session_for(app) as own:
            meeting.wait()
            sent.append(lost_link.send_links(own, mail, UNION, today_local(), now_utc()))

    threads = [threading.Thread(target=ask) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(sent) == [0, 2]
    with session_for(app) as session:
        assert len(mail_to(session, UNION)) == 1


def test_links_can_be_asked_again_once_the_quiet_time_is_over(client, session, monkeypatch):
    hold(session)
    ask_for_links(client, UNION)
    monkeypatch.setattr(lost_link, "QUIET_TIME", dt.timedelta(0))
    ask_for_links(client, UNION)
    assert len(mail_to(session, UNION)) == 2


def test_staff_see_on_the_desk_that_the_link_was_sent_again(client, staff_client, session):
    held = hold(session)
    ask_for_links(client, UNION)
    desk = staff_client.get(f"/staff/bookings/{held.booking.reference}", headers=EN)
    assert "private link sent again (lost link)" in desk.get_data(as_text=True)


@pytest.mark.parametrize(
    "typed, message",
    [
        ("", "Enter the email address you gave with your request."),
        ("   ", "Enter the email address you gave with your request."),
        ("ana", "Enter a valid email address"),
        ("ana@", "Enter a valid email address"),
        ("ana@example.org\r\nBcc: evil@evil.example", "Remove line breaks and control characters"),
        ("ana\x00@example.org", "Remove line breaks and control characters"),
        ("=?utf-8?q?ana?=@example.org", "Enter a valid email address"),
        ("a" * 5000 + "@example.org", "At most 254 characters"),
    ],
)
def test_a_bad_address_gets_the_form_again_with_why(client, session, typed, message):
    hold(session)
    before = outbox_size(session)
    response = ask_for_links(client, typed)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in page
    assert 'id="email-error"' in page and 'aria-invalid="true"' in page
    assert f'action="{LOST_LINK}"' in page
    assert "\x00" not in page
    assert outbox_size(session) == before
    assert response.headers["Cache-Control"] == "no-store"


def test_a_form_without_the_address_field_is_refused(client, session):
    response = post_form(client, LOST_LINK, {}, headers=EN)
    assert response.status_code == 422
    assert "Enter the email address you gave" in response.get_data(as_text=True)


def test_a_form_without_its_csrf_token_sends_nothing(client, session):
    hold(session)
    response = client.post(LOST_LINK, data={"email": UNION}, headers=EN)
    assert lost_link.sender.wait_until_idle()
    assert response.status_code == 400
    assert outbox_size(session) == 0


def test_too_many_askings_from_one_address_get_a_429(app, client, session):
    app.config["RATELIMIT_BOOKING"] = "2/hour"
    for address in ("a@example.org", "b@example.org"):
        assert ask_for_links(client, address).status_code == 303
    refused = ask_for_links(client, UNION)
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 0


def test_a_link_that_finds_nothing_offers_to_send_the_links_again(client):
    for path in ("/bookings/not-a-real-token", "/bookings/not-a-real-token/calendar.ics"):
        response = client.get(path, headers=EN)
        page = response.get_data(as_text=True)
        assert response.status_code == 404
        assert "This link does not work" in page
        assert f'action="{LOST_LINK}"' in page and 'type="email"' in page


def test_the_404_of_a_private_link_speaks_french_to_a_french_browser(client):
    page = client.get("/bookings/pas-un-lien", headers=FR).get_data(as_text=True)
    assert "Ce lien ne fonctionne pas" in page
    assert "Lien perdu?" in page
