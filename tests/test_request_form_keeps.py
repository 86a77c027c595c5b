"""A union never loses what it typed on the request form: the buttons that work without
JavaScript (a calendar day or month, a suggested window, the language) draw the form again
with every field kept, a refused form lists and links what to correct, dates already taken
are not called "taken in the meantime", and the rate limit keeps the form."""

from __future__ import annotations

import datetime as dt
import re
from html.parser import HTMLParser
from typing import Any

import pytest
from sqlalchemy import func, select

from booking.catalog import calendar_version
from booking.models import Booking, WaitlistEntry
from core.models import OutboxMessage
from tests.factories import csrf_token, days_from_today, form_data, hold, post_form

D = dt.timedelta
EN = {"Accept-Language": "en"}
FR = {"Accept-Language": "fr"}
INDOOR = "expo-interieure"
TRAINING = "formation-bd-textile"
FORM = f"/book/{INDOOR}"
REDRAW = f"/book/{INDOOR}/form"
START = days_from_today(90)


class RequestFormPage(HTMLParser):
    """What the request form holds as a browser would send it (its own inputs, not the
    waitlist's), the calendar's month, the error summary's links and the required marks."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.html = html
        self.values: dict[str, str] = {}
        self.summary_links: list[tuple[str, str]] = []
        self.required: set[str] = set()
        self._in_form = self._in_summary = False
        self._text_of: str | None = None
        self._link = ""
        self._select = ""
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = {key: value or "" for key, value in attrs}
        if tag == "form":
            self._in_form = attr.get("id") == "request-form"
        if attr.get("id") == "error-summary":
            self._in_summary = True
        if self._in_summary and tag == "a":
            self._link, self._text_of = attr["href"], ""
        if not self._in_form or "form" in attr:
            return
        name = attr.get("name", "")
        if "required" in attr and name:
            self.required.add(name)
        if tag == "input" and name and (attr.get("type") != "radio" or "checked" in attr):
            self.values[name] = attr.get("value", "")
        elif tag == "textarea":
            self._text_of, self.values[name] = name, ""
        elif tag == "select":
            self._select = name
        elif tag == "option" and self._select and "selected" in attr:
            self.values[self._select] = attr.get("value", "")

    def handle_data(self, data: str) -> None:
        if self._link and self._text_of is not None:
            self._text_of += data
        elif self._text_of:
            self.values[self._text_of] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._link:
            self.summary_links.append((self._link, " ".join((self._text_of or "").split())))
            self._link, self._text_of = "", None
        elif tag == "textarea":
            self._text_of = None
        elif tag == "select":
            self._select = ""
        elif tag == "form":
            self._in_form = False
        elif tag == "ul":
            self._in_summary = False

    def value(self, name: str) -> str:
        return self.values.get(name, "").removeprefix("\r\n").removeprefix("\n")

    @property
    def month_shown(self) -> str:
        return self.values["month"]


def typed(**changes: Any) -> dict[str, str]:
    """A union's whole form, notes included, as the browser sends it."""
    answers: dict[str, Any] = {"notes": "Accès par la ruelle.", **changes}
    return form_data(start=START, end=START + D(4), **answers)


def assert_kept(page: RequestFormPage, sent: dict[str, str], *, but: tuple[str, ...] = ()) -> None:
    """Every answer sent that the form asks (the page drawn anew asks the same) is there."""
    asked = [name for name in sent if name in page.values and name not in but]
    assert len(asked) >= 12, asked  # the dates, who, where, notes: not just a few
    for name in asked:
        assert page.value(name) == sent[name], name


def stored(session) -> tuple[int, int, int]:
    session.expire_all()
    return tuple(  # type: ignore[return-value]
        session.scalar(select(func.count()).select_from(table))
        for table in (Booking, WaitlistEntry, OutboxMessage)
    )


def redraw(client, data: dict[str, str], headers=EN, url: str = REDRAW):
    """A redraw button pressed on the form (the token is the form's)."""
    return client.post(url, data={**data, "csrf_token": csrf_token(client, FORM)}, headers=headers)


# --- drawing the form again --------------------------------------------------------------


def test_union_picking_a_day_without_javascript_keeps_every_other_field(client, session):
    before = stored(session)
    sent = typed()
    picked = START + D(14)

    first_click = redraw(client, {**sent, "pick_day": picked.isoformat()})

    assert first_click.status_code == 200
    page = RequestFormPage(first_click.get_data(as_text=True))
    assert_kept(page, sent, but=("start", "end"))
    # Both days were set: a click starts a new stretch, the next one ends it.
    assert (page.value("start"), page.value("end")) == (picked.isoformat(), "")
    as_sent = {name: page.value(name) for name in page.values}
    second_click = redraw(client, {**as_sent, "pick_day": (picked + D(5)).isoformat()})
    page = RequestFormPage(second_click.get_data(as_text=True))
    assert (page.value("start"), page.value("end")) == (str(picked), str(picked + D(5)))
    assert_kept(page, sent, but=("start", "end"))
    assert page.month_shown == f"{picked:%Y-%m}"
    assert stored(session) == before


def test_union_picking_the_trainings_date_gets_its_whole_length(client):
    sent = form_data(TRAINING, start=START, end=START, notes="Vingt personnes.")
    day = START + D(3)

    response = redraw(client, {**sent, "pick_day": str(day)}, url=f"/book/{TRAINING}/form")

    page = RequestFormPage(response.get_data(as_text=True))
    assert page.value("start") == str(day)
    assert page.value("notes") == "Vingt personnes."
    assert "These dates are free." in page.html


def test_union_paging_the_calendar_without_javascript_keeps_every_field(client, session):
    before = stored(session)
    sent = typed()
    month = (START + D(62)).replace(day=1)

    response = redraw(client, {**sent, "show_month": f"{month:%Y-%m}"})

    assert response.status_code == 200
    page = RequestFormPage(response.get_data(as_text=True))
    assert_kept(page, sent)
    assert page.month_shown == f"{month:%Y-%m}"
    assert stored(session) == before


def test_union_choosing_a_suggested_window_without_javascript_keeps_every_field(client, session):
    for _crate in range(2):
        hold(session, offering=INDOOR, start=START, end=START + D(4))
    before = stored(session)
    sent = typed()
    clash = RequestFormPage(redraw(client, {**sent, "show_month": f"{START:%Y-%m}"}).text)
    windows = re.findall(r'name="use_window" value="([0-9-]+)/([0-9-]+)"', clash.html)
    assert windows, "the live answer under taken dates offers no window"
    first, last = windows[0]

    response = redraw(client, {**sent, "use_window": f"{first}/{last}"})

    assert response.status_code == 200
    page = RequestFormPage(response.get_data(as_text=True))
    assert (page.value("start"), page.value("end")) == (first, last)
    assert_kept(page, sent, but=("start", "end"))
    assert "These dates are free." in page.html
    assert stored(session) == before


def test_union_switching_language_on_the_form_keeps_every_field(client, session):
    before = stored(session)
    sent = typed(language="fr")
    client.set_cookie("lang", "fr")

    response = redraw(client, {**sent, "switch_language": "en"}, headers=FR)

    assert response.status_code == 200
    page = RequestFormPage(response.get_data(as_text=True))
    assert '<html lang="en">' in page.html
    assert "Request dates" in page.html and "Send the request" in page.html
    assert_kept(page, sent)  # the language of our messages too: only the page's changed
    assert 'name="switch_language" value="fr"' in page.html  # and back again
    assert "lang=en" in response.headers["Set-Cookie"]
    # The next pages are in English too, as after the header link.
    assert '<html lang="en">' in client.get(FORM).get_data(as_text=True)
    assert stored(session) == before


def test_the_language_button_is_the_forms_and_enter_still_sends_the_request(client):
    html = client.get(FORM, headers=EN).get_data(as_text=True)
    header = html[html.index("<header") : html.index("</header>")]
    buttons = re.findall(r"<button[^>]*>", header)
    # Enter in a field clicks the form's first submit button in document order: the one
    # that sends the request (hidden, ahead of the language button).
    assert 'form="request-form"' in buttons[0] and "hidden" in buttons[0]
    assert "formaction" not in buttons[0]
    assert 'formaction="/book/expo-interieure/form"' in buttons[1]
    assert 'name="switch_language" value="fr"' in buttons[1] and 'lang="fr"' in buttons[1]


@pytest.mark.parametrize(
    "button, value, message",
    [
        ("pick_day", "yesterday", "That day is not on the calendar"),
        ("pick_day", "9999-12-31", "That day is not on the calendar"),
        ("pick_day", str(days_from_today(-400)), "That day is not on the calendar"),
        ("show_month", "2020-01", "That month is not on the calendar"),
        ("show_month", "2027-13", "That month is not on the calendar"),
        ("show_month", "", "That month is not on the calendar"),
        ("use_window", "nothing", "That suggestion could not be read"),
        ("use_window", f"{START + D(4)}/{START}", "That suggestion could not be read"),
        ("use_window", f"{START}/9999-12-31", "That suggestion could not be read"),
        ("switch_language", "de", "French (fr) or English (en)"),
    ],
)
def test_a_redraw_button_nobody_draws_is_a_400_that_keeps_the_form(
    client, session, button, value, message
):
    before = stored(session)
    sent = typed()

    response = redraw(client, {**sent, button: value})

    assert response.status_code == 400
    page = RequestFormPage(response.get_data(as_text=True))
    assert message in page.html
    assert re.search(r'id="form-problem" tabindex="-1" autofocus', page.html)
    assert_kept(page, sent)
    assert stored(session) == before


def test_a_page_left_open_since_last_month_still_switches_language(client):
    # The calendar's month list goes with every button; its month has passed since.
    stale = {**typed(), "show_month": "2020-01", "switch_language": "fr"}

    response = redraw(client, stale)

    assert response.status_code == 200
    assert '<html lang="fr">' in response.get_data(as_text=True)


def test_a_redraw_without_its_token_is_refused_and_changes_nothing(client, session):
    before = stored(session)

    response = client.post(REDRAW, data={**typed(), "show_month": f"{START:%Y-%m}"}, headers=EN)

    assert response.status_code == 400
    assert "This form has expired" in response.get_data(as_text=True)
    assert stored(session) == before


def test_the_redrawn_forms_address_opened_anew_is_the_form(client):
    response = client.get(REDRAW)
    assert response.status_code == 303
    assert response.headers["Location"] == FORM


def test_request_these_dates_opens_the_forms_calendar_on_the_month_shown(client):
    month = (START + D(40)).replace(day=1)
    url = f"{FORM}?month={month:%Y-%m}&start={month + D(2)}&end={month + D(6)}"

    page = RequestFormPage(client.get(url, headers=EN).get_data(as_text=True))

    assert page.month_shown == f"{month:%Y-%m}"
    assert (page.value("start"), page.value("end")) == (str(month + D(2)), str(month + D(6)))
    assert "These dates are free." in page.html
    # A month the calendar cannot show is no error here: the form opens on the dates'.
    page = RequestFormPage(client.get(f"{FORM}?month=1999-01&start={START}").text)
    assert page.month_shown == f"{START:%Y-%m}"


# --- a refused form ----------------------------------------------------------------------


def test_refused_form_lists_and_links_every_field_to_correct(client):
    sent = typed(organization="", email="ana@", audience="many", secure_storage=None)

    response = post_form(client, FORM, sent, headers=EN)

    assert response.status_code == 422
    page = RequestFormPage(response.get_data(as_text=True))
    assert page.summary_links == [
        ("#organization", "Union or organization: This field is required."),
        ("#email", "Email: Enter a valid email address, like name@example.org."),
        ("#audience", "Expected audience (people): Enter a whole number."),
        ("#secure_storage-0", "Can the crates be stored in a locked room? " + STORAGE_MISSING),
    ]
    assert re.search(r'id="error-summary" tabindex="-1" autofocus', page.html)
    for target, _text in page.summary_links:
        assert f'id="{target[1:]}"' in page.html
    assert_kept(page, sent, but=("secure_storage",))


STORAGE_MISSING = "Tell us whether the crates can be stored securely."


def test_refused_form_on_taken_dates_offers_the_waitlist_as_it_is(client, session):
    take(session)

    response = post_form(client, FORM, typed(email="ana@"), headers=EN)

    assert response.status_code == 422
    page = RequestFormPage(response.get_data(as_text=True))
    assert page.summary_links == [("#email", "Email: " + EMAIL_INVALID)]
    offer = page.html[page.html.index('id="waitlist-offer"') : page.html.index('id="calendar"')]
    assert "Tell me if these dates free up" in offer
    assert "field-error" not in offer and EMAIL_INVALID not in offer


EMAIL_INVALID = "Enter a valid email address, like name@example.org."


def test_error_summary_speaks_the_unions_language(client):
    response = post_form(client, FORM, typed(email="ana@"), headers=FR)
    page = RequestFormPage(response.get_data(as_text=True))
    assert page.summary_links == [("#email", "Courriel : " + FRENCH_EMAIL)]


FRENCH_EMAIL = "Entrez une adresse courriel valide, par exemple nom@exemple.org."


def test_required_fields_say_so_and_optional_ones_do_not(client):
    html = client.get(FORM, headers=EN).get_data(as_text=True)
    page = RequestFormPage(html)
    asked = {"start", "end", "organization", "contact_name", "email", "phone", "venue"}
    assert asked <= page.required
    assert {"wall_metres", "secure_storage"} <= page.required  # asked of an exhibition
    assert "notes" not in page.required
    assert "Fields marked (required) must be filled in" in html
    assert re.search(r'<label for="email">Email</label> <span class="required-mark"', html)
    assert not re.search(r'<label for="notes">[^<]*</label> <span class="required-mark"', html)
    french = client.get(FORM, headers=FR).get_data(as_text=True)
    assert "(obligatoire)" in french


def test_the_live_answer_is_still_under_the_dates_after_a_refused_form(client):
    response = post_form(client, FORM, typed(email="ana@"), headers=EN)
    page = response.get_data(as_text=True)
    answer = page[page.index('id="availability"') : page.index('id="calendar"')]
    assert "These dates are free." in answer


# --- dates taken: already, or in the meantime --------------------------------------------


def drawn_form(client, url: str = FORM) -> dict[str, str]:
    """The hidden values a form drawn now carries (its token, the calendar's version)."""
    page = RequestFormPage(client.get(url, headers=EN).get_data(as_text=True))
    return {k: page.values[k] for k in ("csrf_token", "calendar_version", "month")}


def take(session, start: dt.date = START, days: int = 5) -> None:
    for _crate in range(2):
        hold(session, offering=INDOOR, start=start, end=start + D(days - 1))


def test_dates_taken_before_the_form_was_drawn_are_already_taken(client, session):
    take(session)
    drawn = drawn_form(client)

    response = client.post(FORM, data={**typed(), **drawn}, headers=EN)

    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "Those dates are already taken." in page
    assert "in the meantime" not in page
    assert 'name="use_window"' in page and 'id="waitlist-offer"' in page


def test_dates_taken_after_the_form_was_drawn_were_taken_in_the_meantime(client, session):
    drawn = drawn_form(client)
    take(session)

    response = client.post(FORM, data={**typed(), **drawn}, headers=EN)

    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "Those dates were taken in the meantime." in page
    assert 'name="use_window"' in page and 'id="waitlist-offer"' in page
    # The page drawn now knows the calendar as it is: sent again, they are "already taken".
    version = re.search(r'name="calendar_version" value="(\d+)"', page)
    assert version and int(version[1]) == calendar_version(session)


def test_the_live_answer_tells_the_form_which_calendar_it_read(client, session):
    drawn = drawn_form(client)
    take(session)
    answer = client.get(f"{FORM}/check?start={START}&end={START + D(4)}", headers=EN).text
    seen = re.search(r'name="calendar_version" value="(\d+)"', answer)
    assert seen and seen[1] != drawn["calendar_version"]

    response = client.post(FORM, data={**typed(), **drawn, "calendar_version": seen[1]}, headers=EN)

    assert "Those dates are already taken." in response.get_data(as_text=True)


# --- the rate limit ----------------------------------------------------------------------


class TestRateLimit:
    @pytest.fixture
    def app_config(self) -> dict[str, Any]:
        return {"RATELIMIT_BOOKING": "2/hour", "CENTRE_PHONE": "514-383-2266 poste 225"}

    def send(self, client, offset: int, **changes: Any):
        start = days_from_today(offset)
        return post_form(client, FORM, form_data(start=start, **changes), headers=EN)

    def test_union_past_the_limit_keeps_its_form_and_gets_the_centres_contact(self, client):
        for offset in (60, 70):
            assert self.send(client, offset).status_code == 303
        sent = typed(notes="Troisième demande du bureau.")

        response = post_form(client, FORM, sent, headers=EN)

        assert response.status_code == 429
        retry = int(response.headers["Retry-After"])
        assert 0 < retry <= 3600
        page = RequestFormPage(response.get_data(as_text=True))
        assert_kept(page, sent)
        assert "Your request was not sent" in page.html
        minutes = re.search(r"try again in (\d+) minutes, at ([^(]+) \(Montréal time\)", page.html)
        assert minutes and int(minutes[1]) == -(-retry // 60)
        assert 'href="mailto:ciso@ciso.qc.ca"' in page.html
        assert "514-383-2266 poste 225" in page.html
        assert 'href="tel:+15143832266,225"' in page.html
        assert re.search(r'id="form-problem" tabindex="-1" autofocus', page.html)

    def test_the_limit_page_speaks_french_to_a_french_union(self, client):
        for offset in (60, 70):
            self.send(client, offset)
        response = post_form(client, FORM, typed(), headers=FR)
        assert response.status_code == 429
        assert "heure de Montréal" in response.get_data(as_text=True)

    def test_typos_live_checks_and_redraws_take_nothing_from_the_limit(self, client):
        for _typo in range(4):
            assert self.send(client, 60, email="ana@").status_code == 422
        for _look in range(5):
            client.get(f"{FORM}/check?start={START}&end={START + D(4)}")
            assert redraw(client, {**typed(), "show_month": f"{START:%Y-%m}"}).status_code == 200
        for offset in (60, 70):
            assert self.send(client, offset).status_code == 303
        assert self.send(client, 80).status_code == 429

    def test_dates_found_taken_count_as_a_request(self, client, session):
        take(session, days_from_today(60))
        assert self.send(client, 60).status_code == 409
        assert self.send(client, 70).status_code == 303
        assert self.send(client, 80).status_code == 429

    def test_the_waitlist_past_its_limit_still_says_when_to_come_back(self, client, session):
        token = csrf_token(client, FORM)
        values = {"email": "ana@example.org", "start": str(START), "end": str(START + D(4))}
        answers = [
            client.post(f"{FORM}/waitlist", data={**values, "csrf_token": token}, headers=EN)
            for _ in range(3)
        ]
        assert answers[-1].status_code == 429
        assert answers[-1].headers["Retry-After"]
        assert "try again in" in answers[-1].get_data(as_text=True)
