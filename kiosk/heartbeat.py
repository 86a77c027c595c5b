"""What screens report every minute (the slide on screen, the bundle they run), kept as one
row per screen and minute; and what staff see of it: online, last seen, up to date."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.clock import as_utc
from core.database import begin_write, insert_or_on_conflict
from kiosk.models import Heartbeat, Screen

MAX_REPORTS = 500  # per request: a screen offline for days sends its queue in parts
OLDEST_REPORT = dt.timedelta(days=30)  # older reports are dropped, not recorded
ONLINE_WITHIN = 3  # heartbeat intervals without news before a screen counts as offline


@dataclass(frozen=True)
class Report:
    """One heartbeat. Its age, not a time: the screen's clock may be wrong, but it measures
    how long ago it made a report well enough."""

    seconds_ago: int
    portrait_slug: str | None
    bundle_version: str


@dataclass(frozen=True)
class ScreenStatus:
    online: bool
    last_seen: dt.datetime | None
    portrait_slug: str | None
    bundle_version: str | None


def record_reports(
    session: Session, screen: Screen, reports: Sequence[Report], now: dt.datetime
) -> int:
    """Keeps each report in its minute (the latest report of a minute wins); returns how
    many were kept."""
    rows = {}
    for report in sorted(reports, key=lambda report: -report.seconds_ago):
        if report.seconds_ago > OLDEST_REPORT.total_seconds():
            continue  # compared as a number: an age of 10**20 s is no timedelta at all
        age = dt.timedelta(seconds=max(report.seconds_ago, 0))
        minute = (now - age).replace(second=0, microsecond=0)
        rows[minute] = dict(
            screen_id=screen.id,
            minute=minute,
            portrait_slug=report.portrait_slug,
            bundle_version=report.bundle_version,
        )
    if not rows:
        return 0
    statement = insert_or_on_conflict(session, Heartbeat).values(list(rows.values()))
    statement = statement.on_conflict_do_update(
        index_elements=[Heartbeat.screen_id, Heartbeat.minute],
        set_={
            "portrait_slug": statement.excluded.portrait_slug,
            "bundle_version": statement.excluded.bundle_version,
        },
    )
    begin_write(session)
    session.execute(statement)
    session.commit()
    return len(rows)


def statuses(
    session: Session, screens: Sequence[Screen], now: dt.datetime, heartbeat_seconds: int
) -> dict[int, ScreenStatus]:
    """Each screen's last report, and whether it came recently enough to call it online."""
    latest = (
        select(Heartbeat.screen_id, func.max(Heartbeat.minute).label("minute"))
        .where(Heartbeat.screen_id.in_([screen.id for screen in screens]))
        .group_by(Heartbeat.screen_id)
        .subquery()
    )
    rows = session.scalars(
        select(Heartbeat).join(
            latest,
            (Heartbeat.screen_id == latest.c.screen_id) & (Heartbeat.minute == latest.c.minute),
        )
    )
    by_screen = {row.screen_id: row for row in rows}
    window = dt.timedelta(seconds=ONLINE_WITHIN * heartbeat_seconds) + dt.timedelta(minutes=1)
    result = {}
    for screen in screens:
        row = by_screen.get(screen.id)
        if row is None:
            result[screen.id] = ScreenStatus(False, None, None, None)
            continue
        seen = as_utc(row.minute)
        result[screen.id] = ScreenStatus(
            online=now - seen <= window,
            last_seen=seen,
            portrait_slug=row.portrait_slug,
            bundle_version=row.bundle_version,
        )
    return result
