"""Staff close days for repairs or holidays: a blackout on a unit or a whole offering keeps
unions off those days, and is refused where a union already holds them."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from booking.models import Blackout, Offering, Unit
from core.staff.models import AuditEvent
from tests.factories import days_from_today, hold, request_fields, staff_post

EN = {"Accept-Language": "en"}


def _units(session, slug: str = "expo-interieure") -> list[Unit]:
    offering = session.scalar(select(Offering).where(Offering.slug == slug))
    units = list(offering.units)
    session.commit()  # the test's own reads start afresh after the app's writes
    return units


def _add(client, target: str, start: dt.date, end: dt.date, reason: str = "Réparation", **kw):  # type: ignore[no-untyped-def]
    form = {"target": target, "start": start.isoformat(), "end": end.isoformat(), "reason": reason}
    return staff_post(client, "/staff/blackouts", form, **kw)


def _day_status(client, slug: str, day: dt.date) -> str:
    answer = client.get(f"/api/v1/availability?offering={slug}&start={day}&end={day}")
    return answer.get_json()["days"][0]["status"]


def test_a_blackout_on_every_unit_closes_the_days_to_unions(staff_client, client, session):
    offering = _units(session)[0].offering
    start = days_from_today(90)
    added = _add(staff_client, f"offering-{offering.id}", start, start + dt.timedelta(days=6))
    assert added.status_code == 303
    assert _day_status(client, "expo-interieure", start + dt.timedelta(days=3)) != "free"
    refused = client.post(
        "/api/v1/bookings",
        json={
            **request_fields(start=start, end=start + dt.timedelta(days=4)),
            "start": start.isoformat(),
            "end": (start + dt.timedelta(days=4)).isoformat(),
        },
    )
    assert refused.status_code == 409
    listed = staff_client.get("/staff/blackouts", headers=EN).get_data(as_text=True)
    assert "Réparation" in listed and "every unit" in listed


def test_a_blackout_on_one_crate_leaves_the_other_bookable(staff_client, session):
    first, second = _units(session)
    start = days_from_today(90)
    assert (
        _add(staff_client, f"unit-{first.id}", start, start + dt.timedelta(days=9)).status_code
        == 303
    )
    held = hold(session, start=start + dt.timedelta(days=2))
    assert held.booking.unit_id == second.id


def test_a_blackout_over_a_hold_is_refused_naming_it(staff_client, session):
    start = days_from_today(120)
    held = hold(session, start=start, organization="Syndicat des débardeurs").booking
    response = _add(
        staff_client,
        f"unit-{held.unit_id}",
        start + dt.timedelta(days=5),
        start + dt.timedelta(days=5),
        headers=EN,
    )
    # The hold's transit days count: the 5th day is its last buffer day.
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert held.reference in page and "Syndicat des débardeurs" in page
    assert session.scalar(select(func.count()).select_from(Blackout)) == 0


def test_bad_blackouts_are_refused_with_a_message_and_change_nothing(staff_client, session):
    unit = _units(session)[0]
    day = days_from_today(100)
    cases = [
        {
            "target": f"unit-{unit.id}",
            "start": day.isoformat(),
            "end": (day - dt.timedelta(days=1)).isoformat(),
        },
        {"target": f"unit-{unit.id}", "start": "01/02/2027", "end": day.isoformat()},
        {"target": f"unit-{unit.id}", "start": "", "end": ""},
        {"target": "unit-99999", "start": day.isoformat(), "end": day.isoformat()},
        {"target": "offering-abc", "start": day.isoformat(), "end": day.isoformat()},
        {
            "target": f"unit-{unit.id}",
            "start": day.isoformat(),
            "end": day.isoformat(),
            "reason": "x" * 301,
        },
        {
            "target": f"unit-{unit.id}",
            "start": day.isoformat(),
            "end": (day + dt.timedelta(days=5000)).isoformat(),
        },
    ]
    for form in cases:
        response = staff_post(staff_client, "/staff/blackouts", form, headers=EN)
        assert response.status_code == 422, form
        assert 'class="field-error"' in response.get_data(as_text=True), form
    assert session.scalar(select(func.count()).select_from(Blackout)) == 0


def test_staff_change_and_remove_a_blackout_and_each_step_is_logged(staff_client, client, session):
    unit = _units(session)[0]
    start = days_from_today(150)
    _add(staff_client, f"unit-{unit.id}", start, start + dt.timedelta(days=3))
    blackout = session.scalar(select(Blackout))
    edit = staff_client.get(f"/staff/blackouts/{blackout.id}", headers=EN).get_data(as_text=True)
    assert start.isoformat() in edit
    later = start + dt.timedelta(days=30)
    form = {
        "target": f"unit-{unit.id}",
        "start": later.isoformat(),
        "end": later.isoformat(),
        "reason": "Congé",
    }
    assert staff_post(staff_client, f"/staff/blackouts/{blackout.id}", form).status_code == 303
    session.commit()
    session.refresh(blackout)
    assert (blackout.start_date, blackout.reason) == (later, "Congé")
    removed = staff_post(staff_client, f"/staff/blackouts/{blackout.id}/remove")
    assert removed.status_code == 303
    session.commit()
    assert session.scalar(select(func.count()).select_from(Blackout)) == 0
    actions = session.scalars(
        select(AuditEvent.action).where(AuditEvent.subject == "blackout").order_by(AuditEvent.id)
    ).all()
    assert actions == ["blackout added", "blackout changed", "blackout removed"]
    log = staff_client.get("/staff/log", headers=EN).get_data(as_text=True)
    assert "blackout removed" in log and "Congé" in log
    assert staff_client.get("/staff/blackouts/999").status_code == 404
    assert staff_post(staff_client, "/staff/blackouts/999/remove").status_code == 404


def test_a_change_that_would_cover_a_hold_is_refused(staff_client, session):
    unit = _units(session)[0]
    start = days_from_today(200)
    _add(staff_client, f"unit-{unit.id}", start, start)
    blackout = session.scalar(select(Blackout))
    held = hold(session, start=days_from_today(260)).booking
    form = {
        "target": f"unit-{held.unit_id}",
        "start": held.start_date.isoformat(),
        "end": held.end_date.isoformat(),
        "reason": "",
    }
    response = staff_post(staff_client, f"/staff/blackouts/{blackout.id}", form, headers=EN)
    assert response.status_code == 409 and held.reference in response.get_data(as_text=True)
    session.expire_all()
    assert session.get(Blackout, blackout.id).start_date == start


def test_a_reason_with_a_control_character_is_refused(staff_client, session):
    unit = _units(session)[0]
    start = days_from_today(90)
    for reason in ("Réparation\x00", "Réparation\nBcc"):
        refused = _add(staff_client, f"unit-{unit.id}", start, start, reason, headers=EN)
        assert refused.status_code == 422
        assert "Remove line breaks and control characters." in refused.get_data(as_text=True)
    assert session.scalar(select(func.count()).select_from(Blackout)) == 0


def test_a_blackout_number_no_database_holds_is_not_found(staff_client, session):
    unit = _units(session)[0]
    day = days_from_today(90).isoformat()
    huge = "/staff/blackouts/99999999999999999999999"
    assert staff_client.get(huge).status_code == 404
    form = {"target": f"unit-{unit.id}", "start": day, "end": day, "reason": ""}
    # Werkzeug answers a POST there 405 (the rule matched all but the number): no 500.
    assert staff_post(staff_client, huge, form).status_code in (404, 405)
    assert staff_post(staff_client, f"{huge}/remove").status_code in (404, 405)
    assert session.scalar(select(func.count()).select_from(Blackout)) == 0
