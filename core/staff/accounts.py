"""Staff accounts: create, change a password, disable, list; passwords hashed with argon2id."""

from __future__ import annotations

import datetime as dt
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.database import begin_write
from core.staff.models import Role, StaffUser

# argon2-cffi's default is RFC 9106's low-memory profile (argon2id, 64 MiB, 3 passes,
# 4 lanes), above OWASP's current minimum (19 MiB, 2 passes, 1 lane).
HASHER = PasswordHasher()
PASSWORD_MIN_LENGTH = 12
PASSWORD_MAX_LENGTH = 256


class AccountError(ValueError):
    """What a command says back when an account cannot be made or changed."""


def normalized_email(email: str) -> str:
    return email.strip().lower()


def _checked_email(email: str) -> str:
    try:
        validate_email(email, check_deliverability=False)
    except EmailNotValidError as error:
        raise AccountError(f"{email!r} is not an email address: {error}") from error
    return normalized_email(email)


def _checked_password(password: str) -> str:
    if not PASSWORD_MIN_LENGTH <= len(password) <= PASSWORD_MAX_LENGTH:
        raise AccountError(
            f"A password has {PASSWORD_MIN_LENGTH} to {PASSWORD_MAX_LENGTH} characters."
        )
    return password


def hash_password(password: str) -> str:
    return HASHER.hash(password)


@cache
def _unknown_account_hash() -> str:
    return HASHER.hash("no account has this password")


def password_matches(user: StaffUser | None, password: str) -> bool:
    """Takes as long for an unknown or disabled account as for a real one, so the time of
    the answer does not say which emails have accounts."""
    stored = user.password_hash if user is not None and user.active else _unknown_account_hash()
    try:
        HASHER.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False
    return user is not None and user.active


def rehash_if_outdated(user: StaffUser, password: str) -> None:
    """After a sign-in: a hash made with weaker parameters is made again with today's."""
    if HASHER.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)


def account_by_email(session: Session, email: str) -> StaffUser | None:
    return session.scalar(select(StaffUser).where(StaffUser.email == normalized_email(email)))


def _existing(session: Session, email: str) -> StaffUser:
    user = account_by_email(session, email)
    if user is None:
        raise AccountError(f"No staff account for {email}.")
    return user


def create_account(
    session: Session, email: str, password: str, role: Role, now: dt.datetime
) -> StaffUser:
    address = _checked_email(email)
    password_hash = hash_password(_checked_password(password))
    begin_write(session)
    if account_by_email(session, address) is not None:
        session.rollback()
        raise AccountError(f"{address} already has an account.")
    user = StaffUser(
        email=address, password_hash=password_hash, role=role.value, active=True, created_at=now
    )
    session.add(user)
    session.commit()
    return user


def set_password(session: Session, email: str, password: str) -> StaffUser:
    """A new password (the account is enabled again); sessions signed in before end."""
    password_hash = hash_password(_checked_password(password))
    begin_write(session)
    user = _existing(session, email)
    user.password_hash = password_hash
    user.active = True
    user.session_generation += 1
    session.commit()
    return user


def end_sessions(session: Session, user_id: int) -> None:
    """Sign out: the session cookie (signed, kept by the browser) stops being accepted, even
    if a copy of it was taken; the account's other sessions end too."""
    begin_write(session)
    user = session.get(StaffUser, user_id)
    if user is not None:
        user.session_generation += 1
    session.commit()


def disable_account(session: Session, email: str) -> StaffUser:
    """The account can no longer sign in, and its open sessions end; its history stays."""
    begin_write(session)
    user = _existing(session, email)
    user.active = False
    user.session_generation += 1
    session.commit()
    return user


def all_accounts(session: Session) -> list[StaffUser]:
    return list(session.scalars(select(StaffUser).order_by(StaffUser.email)))
