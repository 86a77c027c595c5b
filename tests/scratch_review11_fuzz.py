"""Scratch fuzz (review11): not part of the suite."""
from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import pytest
from werkzeug.datastructures import MultiDict
from sqlalchemy import func, select

from booking.models import Booking
from core.models import OutboxMessage
from tests.factories import csrf_token, days_from_today, form_data, hold, api_body

SLUGS = ["expo-interieure", "expo-exterieure", "formation-bd-textile"]
GARBAGE = ["", " ", "\x00", "2027-02-30", "0001-01-01", "9999-12-31", "9999-12", "0000-01",
           "0001-01", "x" * 5000, "2027-13", "2027-1", "-1", "1e9", "2027-06-01/2027-06-05",
           "9999-12-31/9999-12-31", "0001-01-01/0001-01-02", "2027-06-05/2027-06-01",
           "é", "\ud800" if False else "\u202e", "/", "2027-06-01/", "%00", "fr", "de", "EN"]


def counts(session):
    return (session.scalar(select(func.count()).select_from(Booking)),
            session.scalar(select(func.count()).select_from(OutboxMessage)))


def test_fuzz(app, client, session, capsys):
    bad = []
    before = counts(session)

    def note(resp, what):
        if resp.status_code >= 500:
            bad.append((resp.status_code, what))

    for slug in SLUGS:
        token = csrf_token(client, f"/book/{slug}")
        base = form_data(slug)
        for key in ["pick_day", "show_month", "use_window", "switch_language", "month",
                    "start", "end", "start_time", "participants"]:
            for value in GARBAGE:
                for with_csrf in (True, False):
                    data = {**base, key: value}
                    if with_csrf:
                        data["csrf_token"] = token
                    r = client.post(f"/book/{slug}/form", data=data)
                    note(r, (slug, "redraw", key, value[:30], with_csrf))
                r = client.get(f"/book/{slug}", query_string={key: value})
                note(r, (slug, "book GET", key, value[:30]))
                r = client.get(f"/book/{slug}/check", query_string={key: value})
                note(r, (slug, "check", key, value[:30]))
                r = client.get(f"/book/{slug}/check", query_string={**base, key: value})
                note(r, (slug, "check full", key, value[:30]))
                r = client.get(f"/book/{slug}/calendar", query_string={key: value})
                note(r, (slug, "calendar", key, value[:30]))
                r = client.get(f"/book/{slug}/calendar", query_string={"show_month": value, "start": value, "end": value})
                note(r, (slug, "calendar3", key, value[:30]))
                r = client.get(f"/offerings/{slug}", query_string={key: value})
                note(r, (slug, "offering", key, value[:30]))
                r = client.get(f"/offerings/{slug}", query_string={"month": value, "start": value, "end": value})
                note(r, (slug, "offering3", key, value[:30]))
        # repeated keys
        r = client.post(f"/book/{slug}/form", data=MultiDict([("csrf_token", token), ("pick_day", "x"), ("pick_day", days_from_today(100).isoformat()), ("show_month", "2030-01"), ("show_month", "x"), ("use_window", "a"), ("switch_language", "en"), ("switch_language", "xx")]))
        note(r, (slug, "redraw repeated"))
    print("counts", before, counts(session))
    for each in bad:
        print("BAD", each)
    assert not bad


def _fixed_three(session, slug="formation-bd-textile"):
    from booking.models import Offering
    offering = session.scalar(select(Offering).where(Offering.slug == slug))
    offering.min_days = offering.max_days = 3
    session.commit()


def test_fixed_length_far_dates(app, client, session):
    _fixed_three(session)
    slug = "formation-bd-textile"
    bad = []
    token = csrf_token(client, f"/book/{slug}")
    base = form_data(slug)
    for value in ["9999-12-31", "9999-12-30", "0001-01-01", "9999-12-29"]:
        for url, kw in [
            (f"/book/{slug}", dict(query_string={"start": value})),
            (f"/book/{slug}/check", dict(query_string={"start": value})),
            (f"/book/{slug}/calendar", dict(query_string={"start": value})),
            (f"/offerings/{slug}", dict(query_string={"start": value})),
        ]:
            r = client.get(url, **kw)
            if r.status_code >= 500:
                bad.append((url, value, r.status_code))
        for path in ("/form", ""):
            r = client.post(f"/book/{slug}{path}", data={**base, "start": value, "csrf_token": token})
            if r.status_code >= 500:
                bad.append(("POST" + path, value, r.status_code))
        r = client.post("/api/v1/bookings", json={**api_body(slug), "start": value})
        if r.status_code >= 500:
            bad.append(("api", value, r.status_code))
        r = client.post(f"/book/{slug}/waitlist", data={"email": "a@example.org", "start": value, "end": value, "language": "fr", "csrf_token": token})
        if r.status_code >= 500:
            bad.append(("waitlist", value, r.status_code))
    print(bad)
    assert not bad


ODD = {
    "start_time": ["25:00", "9h", "", "9 H 30", "24:00", "23:59:59", "07:00:00.000", "\x00", "9" * 5000, "٩:٣٠", "９:30", "9h60", "-1:00", "20:00:01"],
    "participants": ["0", "-1", "1e9", "1" * 400, "٣", "２", " 5 ", "5.0", "0x10", "NaN", "\x00"],
    "audience": ["0", "-1", "1e9", "1" * 400, "٣"],
    "wall_metres": ["0", "1e9", "1" * 400, "٣"],
    "site_ground": ["lava", "", "\x00", "GRASS", "grass "],
    "site_permits": ["maybe", "", "OBTAINED"],
    "site_power": ["maybe", "true", "1", "on", ""],
    "secure_storage": ["maybe", "true", ""],
    "site_guard": ["\x00", "x" * 5000, "a\r\nBcc: x@y"],
    "phone": ["514 555-0199 poste 224", "٥١٤٥٥٥٠١٩٩", "５１４５５５０１９９", "+1 514 555 0199 ext. ٢٢٤", "+1 514 555 0199 ext. ２２４",
              "+1 514 555 0199 ext. 12345678901", "+1 514 555 0199 ext. 1234567890", "514 555 0199 poste", "x" * 61, "\x00",
              "+44 20 7946 0958 ext 1234567890", "+1 514 555 0199;ext=1", "tel:+1-514-555-0199", "+1 514 555 0199 #224", "poste 224"],
    "start": ["9999-12-31", "0001-01-01", "2027-02-30", ""],
    "end": ["9999-12-31", "0001-01-01", ""],
    "email": ["a@b", "x\r\n@example.org", "\"a b\"@example.org", "a@例え.jp", "é@example.org"],
    "language": ["de", "", "\x00"],
}


def test_fuzz_posts(app, client, session):
    from booking.models import Booking
    bad, stored = [], []
    for slug in SLUGS:
        token = csrf_token(client, f"/book/{slug}")
        for key, values in ODD.items():
            for i, value in enumerate(values):
                start = days_from_today(200 + 5 * i + (len(key) * 7) % 50)
                base = form_data(slug, start=start, end=start) if slug == "formation-bd-textile" else form_data(slug, start=start, end=start + dt.timedelta(days=4))
                r = client.post(f"/book/{slug}", data={**base, key: value, "csrf_token": token})
                if r.status_code >= 500 or r.status_code not in (303, 400, 409, 422):
                    bad.append(("form", slug, key, value[:20], r.status_code))
                body = api_body(slug, start=start + dt.timedelta(days=1000 % 7), end=(start if slug == "formation-bd-textile" else start + dt.timedelta(days=4)))
                body["start"] = (start + dt.timedelta(days=3)).isoformat()
                if slug != "formation-bd-textile":
                    body["end"] = (start + dt.timedelta(days=7)).isoformat()
                r = client.post("/api/v1/bookings", json={**body, key: value})
                if r.status_code >= 500:
                    bad.append(("api", slug, key, value[:20], r.status_code))
    # wrong JSON types
    for key in ["start_time", "participants", "site_ground", "site_permits", "site_power", "site_guard", "secure_storage", "wall_metres", "audience", "phone", "end", "start"]:
        for value in [1, 1.5, True, [], {}, [1], {"a": 1}, "x", -1, 10**30, 1e308, None]:
            r = client.post("/api/v1/bookings", json={**api_body("formation-bd-textile", start=days_from_today(400), end=days_from_today(400)), key: value})
            if r.status_code >= 500 or r.status_code == 201 and key not in ("site_ground","site_permits","site_power","site_guard","secure_storage","wall_metres","audience","end"):
                bad.append(("apitype-training", key, repr(value), r.status_code, r.get_data(as_text=True)[:200]))
            r = client.post("/api/v1/bookings", json={**api_body("expo-exterieure", start=days_from_today(420), end=days_from_today(424)), key: value})
            if r.status_code >= 500:
                bad.append(("apitype-outdoor", key, repr(value), r.status_code))
    for b in session.scalars(select(Booking)):
        stored.append((b.phone, len(b.phone or ""), getattr(b, "start_time", None), getattr(b, "participants", None)))
    for each in bad:
        print("BAD", each)
    for each in sorted(set(stored), key=str):
        print("STORED", each)
    assert not bad


def test_private_and_lost(app, client, session):
    from booking.lost_link import sender
    from booking.models import Booking
    held = hold(session, offering="expo-interieure", start=days_from_today(300), end=days_from_today(304))
    token = held.manage_token
    bad = []
    for method in ("GET", "HEAD"):
        for url in ["/bookings/lost-link", "/bookings/lost-link/sent", f"/bookings/{token}", f"/bookings/{token}/cancel",
                    f"/bookings/{token}/calendar.ics", "/bookings/x", "/bookings/%00", "/bookings/" + "a" * 5000,
                    "/bookings/x/cancel", "/bookings/x/calendar.ics", "/book/expo-interieure/form", "/book/nope/form",
                    "/book/nope", "/book/nope/check", "/book/nope/calendar", "/offerings/nope", "/api/v1/offerings"]:
            r = client.open(url, method=method)
            print(method, url[:50], r.status_code, r.headers.get("Cache-Control"))
            if r.status_code >= 500:
                bad.append((method, url, r.status_code))
    assert session.scalar(select(Booking.status).where(Booking.id == held.booking.id)) == "requested"
    lost_token = csrf_token(client, "/bookings/lost-link")
    for value in ["", "\x00", "a" * 10000, "ana@example.org", "ANA@EXAMPLE.ORG", "a@b", "x\r\nBcc: y@z.org", "<script>@x.org", "é@example.org", "a@例え.jp"]:
        r = client.post("/bookings/lost-link", data={"email": value, "csrf_token": lost_token})
        print("lost", repr(value[:20]), r.status_code)
        if r.status_code >= 500:
            bad.append(("lost", value[:20], r.status_code))
    r = client.post("/bookings/lost-link", data={"email": "ana@example.org"})
    print("lost no csrf", r.status_code)
    r = client.post("/bookings/lost-link", data={"csrf_token": lost_token})
    print("lost no email", r.status_code)
    r = client.post("/bookings/lost-link", data={"email": ["a@b.org", "c@d.org"], "csrf_token": lost_token})
    print("lost two emails", r.status_code)
    assert sender.wait_until_idle()
    print(session.scalars(select(OutboxMessage.recipient)).all())
    # cancel twice
    ctoken = csrf_token(client, f"/bookings/{held.manage_token}/cancel")
    r1 = client.post(f"/bookings/{held.manage_token}/cancel", data={"csrf_token": ctoken})
    r2 = client.post(f"/bookings/{held.manage_token}/cancel", data={"csrf_token": ctoken})
    print("cancel", r1.status_code, r2.status_code)
    r = client.get(f"/bookings/{held.manage_token}")
    print("manage after", r.status_code, r.headers.get("Cache-Control"))
    import re
    print(re.findall(r'href="(/book/[^"]*)"', r.get_data(as_text=True)))
    assert not bad
