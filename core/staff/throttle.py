"""Sign-in throttling: too many failures for one account name, or from one address, lock
further attempts for a while. Names are counted whether or not they have an account, so
the answers never tell which emails exist."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from dataclasses import dataclass

from sqlalchemy.orm import Session

from core.staff.models import LoginThrottle


@dataclass(frozen=True)
class ThrottlePolicy:
    account_failures: int  # failures for one email before it locks
    address_failures: int  # failures from one address before it locks
    lock: dt.timedelta  # how long a lock lasts; also how long failures are remembered


def throttle_key(secret: str, kind: str, value: str) -> str:
    """A keyed hash: the table holds no email and no address in clear."""
    return hmac.new(secret.encode(), f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()


def locked_until(session: Session, keys: list[str], now: dt.datetime) -> dt.datetime | None:
    """When the last of the keys' locks ends, or None when none is locked."""
    ends = [
        row.locked_until
        for key in keys
        if (row := session.get(LoginThrottle, key)) is not None
        and row.locked_until is not None
        and _aware(row.locked_until) > now
    ]
    return max((_aware(end) for end in ends), default=None)


def count_failure(
    session: Session, key: str, limit: int, lock: dt.timedelta, now: dt.datetime
) -> None:
    row = session.get(LoginThrottle, key)
    if row is None or now - _aware(row.first_failure_at) > lock:
        if row is None:
            row = LoginThrottle(key=key)
            session.add(row)
        row.failures, row.first_failure_at, row.locked_until = 0, now, None
    row.failures += 1
    if row.failures >= limit:
        row.locked_until = now + lock


def forget_failures(session: Session, key: str) -> None:
    row = session.get(LoginThrottle, key)
    if row is not None:
        session.delete(row)


def _aware(moment: dt.datetime) -> dt.datetime:
    """SQLite gives back naive datetimes; every moment here is UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
