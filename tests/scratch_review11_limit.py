from __future__ import annotations

import datetime as dt
import pytest
from sqlalchemy import func, select

from booking.models import Booking
from tests.factories import csrf_token, days_from_today, form_data, hold, api_body


@pytest.fixture
def app_config():
    return {"RATELIMIT_BOOKING": "2/hour"}


def test_limit(app, client, session):
    slug = "expo-interieure"
    token = csrf_token(client, f"/book/{slug}")
    for i in range(3):
        s = days_from_today(200 + 10 * i)
        r = client.post(f"/book/{slug}", data={**form_data(slug, start=s, end=s + dt.timedelta(days=4)), "csrf_token": token})
        print("post", i, r.status_code)
    r = client.post("/book/nope", data={"csrf_token": token})
    print("unknown slug past limit", r.status_code, r.get_data(as_text=True)[:200])
    r = client.post(f"/book/{slug}", data={"csrf_token": token, "start": "9999-12-31"})
    print("garbage past limit", r.status_code)
    r = client.post(f"/book/{slug}", data={"start": "2027-01-01"})
    print("no csrf past limit", r.status_code)
    r = client.post("/book/formation-bd-textile", data={"csrf_token": token, "start": "9999-12-31"})
    print("other slug past limit", r.status_code)


def test_cancel_twice(app, client, session):
    held = hold(session, offering="expo-interieure", start=days_from_today(300), end=days_from_today(304))
    t = held.manage_token
    ctoken = csrf_token(client, f"/bookings/{t}/cancel")
    r1 = client.post(f"/bookings/{t}/cancel", data={"csrf_token": ctoken})
    r2 = client.post(f"/bookings/{t}/cancel", data={"csrf_token": ctoken})
    print("cancel", r1.status_code, r2.status_code)
    r = client.get(f"/bookings/{t}")
    import re
    print(r.status_code, r.headers.get("Cache-Control"), re.findall(r'href="(/book/[^"]*)"', r.get_data(as_text=True)))
    r = client.get(f"/bookings/{t}/cancel")
    print("cancel page after", r.status_code)
    from core.models import OutboxMessage
    session.rollback()
    print([(m.recipient, m.subject) for m in session.scalars(select(OutboxMessage))])


def test_parallel_burst(app, session):
    import threading
    from tests.factories import csrf_token
    slug = "expo-interieure"
    clients = [app.test_client() for _ in range(12)]
    tokens = [csrf_token(c, f"/book/{slug}") for c in clients]
    barrier = threading.Barrier(len(clients))
    results = [None] * len(clients)

    def go(i):
        s = days_from_today(200 + 10 * i)
        data = {**form_data(slug, start=s, end=s + dt.timedelta(days=4)), "csrf_token": tokens[i]}
        barrier.wait()
        results[i] = clients[i].post(f"/book/{slug}", data=data).status_code

    threads = [threading.Thread(target=go, args=(i,)) for i in range(len(clients))]
    for t in threads: t.start()
    for t in threads: t.join()
    print("burst", sorted(results))


def test_parallel_burst_api(app, session):
    import threading
    slug = "expo-interieure"
    clients = [app.test_client() for _ in range(12)]
    barrier = threading.Barrier(len(clients))
    results = [None] * len(clients)

    def go(i):
        s = days_from_today(200 + 10 * i)
        barrier.wait()
        results[i] = clients[i].post("/api/v1/bookings", json=api_body(slug, start=s, end=s + dt.timedelta(days=4))).status_code

    threads = [threading.Thread(target=go, args=(i,)) for i in range(len(clients))]
    for t in threads: t.start()
    for t in threads: t.join()
    print("burst api", sorted(results))
