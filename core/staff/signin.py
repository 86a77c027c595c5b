"""Signing in: the password checked against the throttles, one answer for every failure."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from core.database import begin_write
from core.header_text import breaks_a_header_line
from core.staff import throttle
from core.staff.accounts import account_by_email, password_matches, rehash_if_outdated
from core.staff.models import StaffUser
from core.staff.throttle import ThrottlePolicy


class SignInRefused(Exception):
    """Wrong email or password (never which), or locked until `until`."""

    def __init__(self, until: dt.datetime | None = None) -> None:
        super().__init__(until)
        self.until = until


def sign_in(
    session: Session,
    email: str,
    password: str,
    address: str,
    policy: ThrottlePolicy,
    secret: str,
    now: dt.datetime,
) -> StaffUser:
    """The account, when the password is right and neither the account name nor the address
    is locked; otherwise SignInRefused (with the end of the lock when there is one). A
    locked name is refused even with the right password: guessing gains nothing."""
    account_key = throttle.throttle_key(secret, "account", email.strip().lower())
    address_key = throttle.throttle_key(secret, "address", address)
    until = throttle.locked_until(session, [account_key, address_key], now)
    if until is not None:
        session.rollback()
        raise SignInRefused(until)
    # No account is named with a control character (and PostgreSQL refuses NUL in a query):
    # such a name is answered like any unknown one.
    user = None if breaks_a_header_line(email) else account_by_email(session, email)
    matches = password_matches(user, password)  # slow by design: outside the write lock
    begin_write(session)
    if not matches:
        throttle.count_failure(session, account_key, policy.account_failures, policy.lock, now)
        throttle.count_failure(session, address_key, policy.address_failures, policy.lock, now)
        until = throttle.locked_until(session, [account_key, address_key], now)
        session.commit()
        raise SignInRefused(until)
    assert user is not None
    throttle.forget_failures(session, account_key)
    rehash_if_outdated(user, password)
    user.last_login_at = now
    session.commit()
    return user
