"""`flask --app run staff …`: create accounts, change passwords, disable, list."""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

from core.clock import now_utc
from core.database import get_session
from core.staff import accounts
from core.staff.accounts import AccountError
from core.staff.models import Role

group = AppGroup("staff", help="Staff accounts.")


def _read_password() -> str:
    """Asked twice at a terminal; one line read from standard input when piped."""
    if sys.stdin.isatty():
        return click.prompt("Password", hide_input=True, confirmation_prompt=True)
    return sys.stdin.readline().rstrip("\r\n")


def _refuse(error: AccountError) -> None:
    raise click.ClickException(str(error))


@group.command("create")
@click.argument("email")
@click.option("--role", type=click.Choice([role.value for role in Role]), default="staff")
def create(email: str, role: str) -> None:
    """Create a staff account (the password is asked for)."""
    try:
        user = accounts.create_account(
            get_session(), email, _read_password(), Role(role), now_utc()
        )
    except AccountError as error:
        _refuse(error)
    click.echo(f"Created {user.role} account {user.email}.")


@group.command("set-password")
@click.argument("email")
def set_password(email: str) -> None:
    """Give an account a new password (and enable it again)."""
    try:
        user = accounts.set_password(get_session(), email, _read_password())
    except AccountError as error:
        _refuse(error)
    click.echo(f"New password set for {user.email}.")


@group.command("disable")
@click.argument("email")
def disable(email: str) -> None:
    """Stop an account from signing in; its sessions end."""
    try:
        user = accounts.disable_account(get_session(), email)
    except AccountError as error:
        _refuse(error)
    click.echo(f"Disabled {user.email}.")


@group.command("list")
def list_accounts() -> None:
    """Every staff account, its role and whether it can sign in."""
    for user in accounts.all_accounts(get_session()):
        state = "active" if user.active else "disabled"
        last = user.last_login_at.date().isoformat() if user.last_login_at else "never"
        click.echo(f"{user.email}\t{user.role}\t{state}\tlast sign-in: {last}")
