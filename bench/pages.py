"""How fast are the public pages and bookings under load, next to a bare Flask page?

Builds a database with a few thousand bookings over three years (through the real rules),
serves the app with gunicorn (2 workers) and with `python run.py` (waitress), each beside a
bare Flask page under the same server, and drives them with wrk (Debian's `wrk`) or a
Python load generator; rounds alternate between the bare page and each page. Then a
booking load: clients posting valid, non-overlapping requests, and how long a hold keeps
the write lock (measured in this process on the same database).

    python bench/pages.py [--database-url postgresql+psycopg://…] [--seconds 15]

--database-url DROPS AND RECREATES the public schema of that database.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import itertools
import json
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT.parent))

from sample_union import booking_fields  # noqa: E402

from booking.models import Offering, OfferingKind, Unit  # noqa: E402
from booking.schema import BookingRequest  # noqa: E402
from booking.service import change_status, hold_dates  # noqa: E402
from booking.status import BookingStatus  # noqa: E402
from booking.submit import submit_request  # noqa: E402
from core.clock import now_utc, today_local  # noqa: E402
from core.database import WRITE, engine_of, session_for  # noqa: E402
from core.outbox import MailSettings  # noqa: E402
from run import create_app  # noqa: E402

HOST = "127.0.0.1"
SEED = 7
HISTORY_BOOKINGS = 3000
BOOKING_SLOTS = itertools.count()  # (day, team) slots of the bench offering, never reused
WITHDRAWN = (BookingStatus.CANCELLED, BookingStatus.DECLINED)
LOAD_OFFERING = "bench-atelier"  # many one-day units, so booking clients never collide
LOAD_UNITS = 8


@dataclass(frozen=True)
class Load:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    errors: int


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="PostgreSQL instead of SQLite (schema DROPPED)")
    parser.add_argument("--seconds", type=int, default=15, help="per load run")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--booking-seconds", type=int, default=20)
    parser.add_argument("--booking-clients", type=int, default=8)
    parser.add_argument("--servers", default="gunicorn,waitress")
    args = parser.parse_args()
    if args.database_url:
        reset_postgres(args.database_url)
    with tempfile.TemporaryDirectory(prefix="ambulante-pages-") as tmp:
        env = environment(Path(tmp) / "data", args.database_url)
        prepare_database(env)
        today = today_local()
        pages = {
            "home": "/",
            "offering page": "/offerings/expo-interieure",
            "availability (3 months)": (
                f"/api/v1/availability?offering=expo-interieure&start={today}"
                f"&end={today + dt.timedelta(days=91)}"
            ),
            "healthz": "/healthz",
        }
        load = wrk_load if shutil.which("wrk") else python_load
        print(
            f"load generator: {'wrk' if load is wrk_load else 'Python threads'}; "
            f"{args.connections} connections, {args.seconds} s a run, {args.rounds} rounds"
        )
        print(f"database: {describe(args.database_url)}")
        for kind in [kind for kind in args.servers.split(",") if kind]:
            with serving(kind, env, Path(tmp)) as (app_port, bare_port):
                report_pages(kind, pages, app_port, bare_port, args, load)
                report_bookings(kind, app_port, args, today)
        report_lock(env, today)


def describe(database_url: str | None) -> str:
    if not database_url:
        return "SQLite (WAL) in a temp dir"
    return make_url(database_url).render_as_string(hide_password=True)


def reset_postgres(database_url: str) -> None:
    engine = create_engine(database_url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def environment(data_dir: Path, database_url: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AMBULANTE_")}
    env.update(
        AMBULANTE_DATA_DIR=str(data_dir),
        AMBULANTE_BOOKING_RATE_LIMIT="1000000/minute",
        AMBULANTE_AUTO_MIGRATE="0",
        AMBULANTE_SEED_DEMO="0",
        PYTHONUNBUFFERED="1",
    )
    if database_url:
        env["AMBULANTE_DATABASE_URL"] = database_url
    return env


@contextmanager
def app_in_process(env: dict[str, str], **config: Any) -> Iterator[Any]:
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        app = create_app({"AUTO_MIGRATE": True, "SEED_DEMO": True, **config})
        with app.app_context():
            yield app
        engine_of(app).dispose()
    finally:
        os.environ.clear()
        os.environ.update(saved)


def prepare_database(env: dict[str, str]) -> None:
    """The demo offerings, a bench offering with many units, and a history of bookings
    made through the real rules over the next three years (some confirmed, some cancelled)."""
    rng = random.Random(SEED)
    with app_in_process(env) as app, session_for(app) as session:
        bench = Offering(
            slug=LOAD_OFFERING,
            kind=OfferingKind.TRAINING,
            title_fr="Atelier du banc d'essai",
            title_en="Bench workshop",
            min_days=1,
            max_days=1,
            lead_days=0,
            position=99,
            active=True,
        )
        bench.units = [Unit(name=f"Équipe {n}", position=n, active=True) for n in range(LOAD_UNITS)]
        session.add(bench)
        session.commit()
        today = today_local()
        made = 0
        for slug in ("expo-interieure", "expo-exterieure", "formation-bd-textile"):
            day = today + dt.timedelta(days=35)
            while made < HISTORY_BOOKINGS and day < today + dt.timedelta(days=3 * 365):
                length = {"formation-bd-textile": 1, "expo-interieure": 5}.get(slug, 10)
                request = BookingRequest.model_validate(
                    booking_fields(slug, day, day + dt.timedelta(days=length - 1))
                )
                # Requests withdrawn or declined before the one that stays: rows in the
                # table that no longer hold dates, as a real history has.
                for _ in range(rng.choice((0, 1, 2, 3, 4))):
                    if not hold_or_skip(session, request, today):
                        break
                    made += 1
                booking = hold_or_skip(session, request, today, keep=True)
                if booking is None:
                    day += dt.timedelta(days=1)
                    continue
                made += 1
                if rng.random() < 0.6:
                    change_status(booking, BookingStatus.CONFIRMED, now_utc())
                    session.commit()
                if slug == "formation-bd-textile" and rng.random() < 0.5:
                    continue  # the second team the same day
                day += dt.timedelta(days=rng.choice((0, 1, 3, 8)))
        say_what_was_made(session, made)


def hold_or_skip(session: Any, request: BookingRequest, today: dt.date, keep: bool = False):  # type: ignore[no-untyped-def]
    """Hold through the rules; unless kept, withdraw it again. None when the dates are taken."""
    try:
        booking = hold_dates(session, request, today, now_utc()).booking
    except Exception:  # noqa: BLE001 - taken or against a rule: the caller walks on
        session.rollback()
        return None
    if not keep:
        change_status(booking, WITHDRAWN[booking.id % 2], now_utc())
    session.commit()
    return booking


def say_what_was_made(session: Any, made: int) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("ANALYZE"))
        session.commit()
    print(f"history: {made} bookings made through the rules", flush=True)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


@contextmanager
def serving(kind: str, env: dict[str, str], tmp: Path) -> Iterator[tuple[int, int]]:
    """The app and the bare page, each in its own server of the same kind."""
    app_port, bare_port = free_port(), free_port()
    env = {**env, "AMBULANTE_PUBLIC_URL": f"http://{HOST}:{app_port}"}
    if kind == "gunicorn":
        gunicorn = [sys.executable, "-m", "gunicorn", "--workers", "2", "--threads", "1"]
        commands = [
            ([*gunicorn, "--bind", f"{HOST}:{app_port}", "run:create_app()"], ROOT.parent),
            ([*gunicorn, "--bind", f"{HOST}:{bare_port}", "bare_app:app"], ROOT),
        ]
    else:
        commands = [
            ([sys.executable, "run.py", "--port", str(app_port)], ROOT.parent),
            (
                [
                    sys.executable,
                    "-m",
                    "waitress",
                    f"--port={bare_port}",
                    "--threads=8",
                    "bare_app:app",
                ],
                ROOT,
            ),
        ]
    processes = [
        subprocess.Popen(
            command,
            cwd=cwd,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=open(tmp / f"{kind}-{n}.log", "wb"),
        )  # noqa: SIM115
        for n, (command, cwd) in enumerate(commands)
    ]
    try:
        for port, path in ((app_port, "/healthz"), (bare_port, "/bare")):
            wait_for(port, path)
        yield app_port, bare_port
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=10)


def wait_for(port: int, path: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection(HOST, port, timeout=2)
            connection.request("GET", path)
            if connection.getresponse().status == 200:
                connection.close()
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"nothing answered on port {port}")


def wrk_load(port: int, path: str, seconds: int, connections: int) -> Load:
    output = subprocess.run(
        [
            "wrk",
            "-t2",
            f"-c{connections}",
            f"-d{seconds}s",
            "--latency",
            f"http://{HOST}:{port}{path}",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output)[1])
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    socket_errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    failures = int(errors[1]) if errors else 0
    if socket_errors:
        failures += sum(int(n) for n in socket_errors.groups())
    return Load(rate, wrk_ms(output, "50%"), wrk_ms(output, "99%"), failures)


def wrk_ms(output: str, percentile: str) -> float:
    value, unit = re.search(rf"{percentile}\s+([\d.]+)(us|ms|s)", output).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def python_load(port: int, path: str, seconds: int, connections: int) -> Load:
    """Keep-alive clients in threads, for machines without wrk."""
    return drive(port, seconds, connections, lambda _n: ("GET", path, None))


def drive(
    port: int, seconds: int, clients: int, next_request: Callable[[int], tuple[str, str, Any]]
) -> Load:
    times: list[float] = []
    failures = [0]
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def client(number: int) -> None:
        connection = http.client.HTTPConnection(HOST, port, timeout=30)
        mine: list[float] = []
        while time.monotonic() < deadline:
            method, path, body = next_request(number)
            began = time.perf_counter()
            try:
                headers = {"Content-Type": "application/json"} if body else {}
                connection.request(
                    method, path, body=json.dumps(body) if body else None, headers=headers
                )
                response = connection.getresponse()
                response.read()
                ok = response.status < 400
                if not ok:
                    with lock:
                        statuses[response.status] = statuses.get(response.status, 0) + 1
            except OSError:
                connection.close()
                connection = http.client.HTTPConnection(HOST, port, timeout=30)
                ok = False
            mine.append(time.perf_counter() - began)
            if not ok:
                with lock:
                    failures[0] += 1
        connection.close()
        with lock:
            times.extend(mine)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    times.sort()
    if statuses:
        print(f"    answers other than success, by status: {statuses}")
    return Load(
        (len(times) - failures[0]) / seconds,
        times[len(times) // 2] * 1000,
        times[int(len(times) * 0.99)] * 1000,
        failures[0],
    )


def report_pages(kind, pages, app_port, bare_port, args, load) -> None:  # type: ignore[no-untyped-def]
    runs: dict[str, list[tuple[Load, Load]]] = {name: [] for name in pages}
    for path in pages.values():  # warm up
        load(app_port, path, 2, args.connections)
    load(bare_port, "/bare", 2, args.connections)
    for round_number in range(args.rounds):
        for name, path in pages.items():
            if round_number % 2 == 0:
                bare = load(bare_port, "/bare", args.seconds, args.connections)
                page = load(app_port, path, args.seconds, args.connections)
            else:
                page = load(app_port, path, args.seconds, args.connections)
                bare = load(bare_port, "/bare", args.seconds, args.connections)
            runs[name].append((page, bare))
    print(f"\n{kind}: median of {args.rounds} rounds")
    columns = ("req/s", "p50 ms", "p99 ms", "bare req/s", "ratio")
    print(f"  {'page':26} " + " ".join(f"{column:>10}" for column in columns) + " errors")
    for name, pairs in runs.items():
        rate = statistics.median(page.requests_per_second for page, _ in pairs)
        bare = statistics.median(b.requests_per_second for _, b in pairs)
        p50 = statistics.median(page.p50_ms for page, _ in pairs)
        p99 = statistics.median(page.p99_ms for page, _ in pairs)
        errors = sum(page.errors for page, _ in pairs)
        figures = f"{rate:10.0f} {p50:10.1f} {p99:10.1f} {bare:10.0f} {rate / bare:10.3f}"
        print(f"  {name:26} {figures} {errors}")


def report_bookings(kind: str, port: int, args: Any, today: dt.date) -> None:
    """Valid requests that never collide: each client takes the next free (day, team), and
    each server's run goes on from where the last one stopped."""
    slots = BOOKING_SLOTS
    lock = threading.Lock()

    def next_request(_client: int) -> tuple[str, str, Any]:
        with lock:
            slot = next(slots)
        day = today + dt.timedelta(days=1 + slot // LOAD_UNITS)
        return (
            "POST",
            "/api/v1/bookings",
            {
                **booking_fields(LOAD_OFFERING, day, day),
                "start": day.isoformat(),
                "end": day.isoformat(),
            },
        )

    result = drive(port, args.booking_seconds, args.booking_clients, next_request)
    print(
        f"  bookings ({args.booking_clients} clients, {args.booking_seconds} s): "
        f"{result.requests_per_second:.1f} accepted/s, p50 {result.p50_ms:.1f} ms, "
        f"p99 {result.p99_ms:.1f} ms, {result.errors} refused or failed"
    )


def report_lock(env: dict[str, str], today: dt.date) -> None:
    """How long a hold keeps its write transaction (SQLite's write lock, PostgreSQL's row
    lock on the offering) open, from BEGIN to COMMIT, beside the short transaction that
    then queues its two messages."""
    held: dict[str, list[float]] = {"hold": [], "messages": []}
    with app_in_process(env, AUTO_MIGRATE=False, SEED_DEMO=False) as app:
        engine = engine_of(app)
        began: list[float] = []
        holding: list[bool] = []

        @event.listens_for(engine, "before_cursor_execute")
        def _statement(connection, _cursor, statement, *_args):  # type: ignore[no-untyped-def]
            if statement.startswith("INSERT INTO bookings"):
                holding.append(True)
            if "FOR UPDATE" in statement and not began:  # PostgreSQL: the offering's row lock
                began.append(time.perf_counter())

        def _began(_session, _transaction, connection):  # type: ignore[no-untyped-def]
            if connection.get_execution_options().get(WRITE):  # SQLite: BEGIN IMMEDIATE
                began.append(time.perf_counter())

        def _committed(_session):  # type: ignore[no-untyped-def]
            # After the database's COMMIT returned: the lock is released only then.
            if began:
                kind = "hold" if holding else "messages"
                held[kind].append(time.perf_counter() - began.pop())
            holding.clear()

        mail = MailSettings.from_config(app.config)
        with session_for(app) as session:
            event.listen(session, "after_begin", _began)
            event.listen(session, "after_commit", _committed)
            for number in range(220):
                day = today + dt.timedelta(days=1 + next(BOOKING_SLOTS) // LOAD_UNITS)
                request = BookingRequest.model_validate(booking_fields(LOAD_OFFERING, day, day))
                if number == 20:
                    for times in held.values():
                        times.clear()  # the first ones warm the caches
                submit_request(session, mail, request, today, now_utc())
    print("\nlocks a request holds (in process, 200 requests), ms:")
    for kind, times in held.items():
        if not times:
            print(f"  {kind:9} takes no lock others wait on")
            continue
        times.sort()
        median, p99 = statistics.median(times) * 1000, times[int(len(times) * 0.99)] * 1000
        print(f"  {kind:9} median {median:6.2f}  p99 {p99:6.2f}")


if __name__ == "__main__":
    main()
