"""Does a month calendar or a conflict check slow down as history grows? 100 vs 100,000."""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import heapq
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, insert, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sample_union import A_UNION, booking_fields  # noqa: E402

from booking.availability import blocked_range, day_states, free_unit_id  # noqa: E402
from booking.catalog import CatalogOffering, active_offerings  # noqa: E402
from booking.models import Booking  # noqa: E402
from booking.schema import BookingRequest  # noqa: E402
from booking.service import hold_dates  # noqa: E402
from core.clock import today_local  # noqa: E402
from core.database import engine_of, session_for  # noqa: E402
from run import create_app  # noqa: E402

SIZES = (100, 100_000)
NOT_HOLDING_SHARE = 0.10  # cancelled and declined requests: in the table, not in the index
FREE_GAP_DAYS = 21  # left free on every unit in the middle, so a new hold can be measured
TARGET = 2.0
SEED = 20271
ROUNDS = 6

Call = tuple[Callable[[], None], int]  # a call, and how many answers it gives (offerings)


@dataclass(frozen=True)
class Filled:
    size: int
    middle: dt.date  # the first day of the free gap, in the middle of the filled period
    first: dt.date
    last: dt.date
    holds: int


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--database-url",
        help="run on this PostgreSQL database instead of SQLite files "
        "(its public schema is DROPPED first)",
    )
    parser.add_argument("--repeat", type=int, default=300, help="timed calls per measure")
    args = parser.parse_args()
    today = today_local()
    plans: list[str] = []
    calls: dict[int, dict[str, Call]] = {}
    urls = postgres_schemas(args.database_url) if args.database_url else {}
    try:
        with tempfile.TemporaryDirectory(prefix="ambulante-bench-") as tmp, ExitStack() as open_:
            for size in SIZES:
                app = open_.enter_context(fresh_app(Path(tmp) / str(size), urls.get(size)))
                session = open_.enter_context(session_for(app))
                began = time.perf_counter()
                filled = fill(session, size, today)
                took = time.perf_counter() - began
                print(
                    f"{size:>7} bookings ({filled.holds} holds) from {filled.first} "
                    f"to {filled.last}, filled in {took:.1f}s",
                    flush=True,
                )
                calls[size] = timed_calls(session, filled, today)
                if size == SIZES[-1]:
                    plans = query_plans(session, engine_of(app), filled, today)
            # Both databases side by side: the sizes take turns, so a busy machine slows both.
            results = measure(calls, args.repeat)
    finally:
        if args.database_url:
            drop_schemas(args.database_url)
    database = "SQLite (a file per size, WAL)"
    if args.database_url:
        database = make_url(args.database_url).render_as_string(hide_password=True)
        database += " (a schema per size)"
    report(results, plans, database)


@contextmanager
def fresh_app(data_dir: Path, database_url: str | None) -> Iterator[Any]:
    """An app on an empty database, through the same start-up as `python run.py`."""
    for name in list(os.environ):
        if name.startswith("AMBULANTE_"):
            del os.environ[name]
    data_dir.mkdir(parents=True)
    os.environ["AMBULANTE_DATA_DIR"] = str(data_dir)
    if database_url:
        os.environ["AMBULANTE_DATABASE_URL"] = database_url
    app = create_app({"TESTING": True})
    with app.app_context():
        yield app
    engine_of(app).dispose()


def postgres_schemas(database_url: str) -> dict[int, str]:
    """Reset the public schema and give each size a schema of its own in the same database,
    so both stay open and are measured in turns; btree_gist goes in public, where the
    migration's CREATE EXTENSION IF NOT EXISTS finds it."""
    url = make_url(database_url)
    if url.get_backend_name() != "postgresql":
        raise SystemExit("--database-url: only PostgreSQL is supported")
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
        connection.execute(text("CREATE EXTENSION btree_gist SCHEMA public"))
        for size in SIZES:
            connection.execute(text(f"DROP SCHEMA IF EXISTS bench_{size} CASCADE"))
            connection.execute(text(f"CREATE SCHEMA bench_{size}"))
    engine.dispose()
    return {
        size: url.update_query_dict(
            {"options": f"-csearch_path=bench_{size},public"}
        ).render_as_string(hide_password=False)
        for size in SIZES
    }


def drop_schemas(database_url: str) -> None:
    engine = create_engine(database_url)
    with engine.begin() as connection:
        for size in SIZES:
            connection.execute(text(f"DROP SCHEMA IF EXISTS bench_{size} CASCADE"))
    engine.dispose()


def fill(session: Session, size: int, today: dt.date) -> Filled:
    """`size` bookings over the demo offerings' units, back to back on each unit.

    Every unit is filled up to the same date, so the history of 100 covers about two
    months and that of 100,000 about two centuries, with the same density: the month
    measured holds as many bookings in both. Nearly all are holds (requested or
    confirmed), the worst case for the partial index; a tenth are cancelled or declined."""
    rng = random.Random(SEED + size)
    offerings = active_offerings(session)
    units = [(offering, unit.id) for offering in offerings for unit in offering.units]
    holds_wanted = round(size * (1 - NOT_HOLDING_SHARE))
    # Walk forward from day 0, always extending the unit that is furthest behind.
    cursors = [(0, index) for index in range(len(units))]
    spans: list[tuple[int, int, int]] = []  # (unit index, first day, last day) of each stay
    gap_at = None
    while len(spans) < holds_wanted:
        if gap_at is None and len(spans) >= holds_wanted // 2:
            gap_at = max(day for day, _ in cursors)
            cursors = [(gap_at + FREE_GAP_DAYS, index) for _, index in cursors]
            heapq.heapify(cursors)
        day, index = heapq.heappop(cursors)
        offering = units[index][0]
        start = day + offering.buffer_before_days + rng.choice((0, 0, 0, 1, 2))
        length = rng.randint(offering.min_days, min(offering.max_days, offering.min_days + 7))
        spans.append((index, start, start + length - 1))
        heapq.heappush(cursors, (start + length + offering.buffer_after_days, index))
    assert gap_at is not None
    # The gap begins a year and a bit from today, so a request for it passes the date rules.
    middle = today + dt.timedelta(days=400)
    epoch = middle - dt.timedelta(days=gap_at)
    rows = []
    for number, (index, first_day, last_day) in enumerate(spans):
        offering, unit_id = units[index]
        start = epoch + dt.timedelta(days=first_day)
        end = epoch + dt.timedelta(days=last_day)
        status = "confirmed" if rng.random() < 0.8 else "requested"
        rows.append(booking_row(number, offering, unit_id, start, end, status))
    for number in range(len(spans), size):
        index, first_day, last_day = rng.choice(spans)
        offering, unit_id = units[index]
        start = epoch + dt.timedelta(days=first_day + rng.randint(-3, 3))
        end = start + dt.timedelta(days=last_day - first_day)
        status = rng.choice(("cancelled", "declined"))
        rows.append(booking_row(number, offering, unit_id, start, end, status))
    for chunk in range(0, len(rows), 10_000):
        session.execute(insert(Booking), rows[chunk : chunk + 10_000])
    session.commit()
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("ANALYZE bookings"))
        session.commit()
    all_dates = [row["blocked_start"] for row in rows] + [row["blocked_end"] for row in rows]
    return Filled(size, middle, min(all_dates), max(all_dates), len(spans))


def booking_row(
    number: int, offering: CatalogOffering, unit_id: int, start: dt.date, end: dt.date, status: str
) -> dict[str, Any]:
    blocked = blocked_range(offering, start, end)
    return {
        "reference": f"BENCH-{number:07d}",
        "offering_id": offering.id,
        "unit_id": unit_id,
        "start_date": start,
        "end_date": end,
        "blocked_start": blocked.start,
        "blocked_end": blocked.end,
        "status": status,
        **A_UNION,
        "notes": "",
        "manage_token_hash": hashlib.sha256(f"bench-{number}".encode()).hexdigest(),
        "created_at": dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
    }


def timed_calls(session: Session, filled: Filled, today: dt.date) -> dict[str, Call]:
    """What a union's pages ask the database, each with how many answers one call gives."""
    offerings = active_offerings(session)
    before_gap = filled.middle - dt.timedelta(days=20)
    month = before_gap.replace(day=1)
    month_end = (month + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
    in_gap = filled.middle + dt.timedelta(days=7)
    gap_request = BookingRequest.model_validate(
        booking_fields("formation-bd-textile", in_gap, in_gap)
    )
    now = dt.datetime.now(dt.UTC)

    def calendar() -> None:
        for offering in offerings:
            day_states(session, offering, month, month_end, today)

    def conflict() -> None:
        # Dates in the busy weeks before the gap: every unit is looked at, none is free.
        for offering in offerings:
            free_unit_id(session, offering, before_gap, before_gap + dt.timedelta(days=2))

    def hold() -> None:
        hold_dates(session, gap_request, today, now)
        session.rollback()

    return {
        "month calendar": (calendar, len(offerings)),
        "conflict check": (conflict, len(offerings)),
        "new hold (rolled back)": (hold, 1),
    }


def measure(calls: dict[int, dict[str, Call]], repeat: int) -> dict[int, dict[str, float]]:
    """Median seconds per answer, over `repeat` timed calls taken in rounds."""
    samples: dict[int, dict[str, list[float]]] = {size: {} for size in calls}
    for round_number in range(ROUNDS):
        sizes = list(calls) if round_number % 2 == 0 else list(reversed(calls))
        for size in sizes:
            for name, (call, answers) in calls[size].items():
                for _ in range(3):
                    call()  # warm the statement cache and the database's pages
                timed = samples[size].setdefault(name, [])
                for _ in range(max(repeat // ROUNDS, 1)):
                    began = time.perf_counter()
                    call()
                    timed.append((time.perf_counter() - began) / answers)
    return {
        size: {name: statistics.median(timed) for name, timed in by_name.items()}
        for size, by_name in samples.items()
    }


def query_plans(session: Session, engine: Engine, filled: Filled, today: dt.date) -> list[str]:
    """Every statement a month calendar and a conflict check send, and the database's own
    overlap guard run by a new hold, each with its plan."""
    offering = active_offerings(session)[0]
    first = filled.middle - dt.timedelta(days=20)
    seen: dict[str, Any] = {}

    def remember(_conn, _cursor, statement, parameters, _context, _many):  # type: ignore[no-untyped-def]
        if statement.lstrip().upper().startswith("SELECT"):
            seen.setdefault(" ".join(statement.split()), parameters)

    event.listen(engine, "before_cursor_execute", remember)
    try:
        day_states(session, offering, first, first + dt.timedelta(days=30), today)
        free_unit_id(session, offering, first, first + dt.timedelta(days=2))
    finally:
        event.remove(engine, "before_cursor_execute", remember)
    sqlite = engine.dialect.name == "sqlite"
    guard = overlap_guard(session, sqlite, offering.units[0].id, filled.middle)
    lines = []
    for title, (statement, parameters) in [
        *(("calendar and conflict check", item) for item in seen.items()),
        ("overlap guard of a new hold (database side)", guard),
    ]:
        lines.append(f"  [{title}] {statement}")
        cursor = session.connection().connection.cursor()
        cursor.execute(("EXPLAIN QUERY PLAN " if sqlite else "EXPLAIN ") + statement, parameters)
        lines.extend(f"      {row[-1]}" for row in cursor.fetchall())
        cursor.close()
    session.rollback()
    return lines


def overlap_guard(session: Session, sqlite: bool, unit_id: int, day: dt.date) -> tuple[str, Any]:
    """The lookup the schema runs before a hold is written: the SQLite trigger's own
    condition as stored, or on PostgreSQL the test its exclusion constraint makes."""
    if not sqlite:
        return (
            "SELECT 1 FROM bookings WHERE unit_id = %(unit)s::integer AND status IN "
            "('requested', 'confirmed') AND daterange(blocked_start, blocked_end, '[]') && "
            "daterange(%(day)s::date, %(day)s::date, '[]')",
            {"unit": unit_id, "day": day},
        )
    trigger = session.scalar(
        text("SELECT sql FROM sqlite_master WHERE name = 'bookings_no_overlap_insert'")
    )
    condition = trigger[trigger.index(" WHEN ") + len(" WHEN ") : trigger.rindex(" BEGIN")]
    for column in ("unit_id", "blocked_start", "blocked_end", "status"):
        condition = condition.replace(f"NEW.{column}", f":{column}")
    values = {"unit_id": unit_id, "blocked_start": str(day), "blocked_end": str(day)}
    return f"SELECT {condition}", {**values, "status": "requested"}


def report(results: dict[int, dict[str, float]], plans: list[str], database: str) -> None:
    small, large = SIZES
    print(f"\nDatabase: {database}; median time per call, milliseconds")
    print(f"{'':26}{small:>12,}{large:>12,}{'ratio':>9}  (goal: within {TARGET:g}x)")
    worst = 0.0
    for name in results[small]:
        a, b = results[small][name], results[large][name]
        ratio = b / a
        worst = max(worst, ratio)
        verdict = "ok" if ratio <= TARGET else "SLOWER"
        print(f"{name:26}{a * 1000:12.3f}{b * 1000:12.3f}{ratio:8.2f}x  {verdict}")
    print(f"\nQuery plans with {large:,} bookings:")
    print("\n".join(plans))
    print(
        f"\nWorst ratio {worst:.2f}x: {'within' if worst <= TARGET else 'NOT within'} {TARGET:g}x"
    )


if __name__ == "__main__":
    main()
